# Builds the tfjs-node N-API addon against the TensorFlow C library shipped in
# the `tensorflow` Python wheel. Used instead of the package's own binding.gyp,
# which expects libtensorflow.so from a download that is not reachable.
{
  'variables': {
    # native/build.sh unpacks the sources to build/tfjs-node/ beside the
    # wheel's library in build/tensorflow/.
    'tf_include': '<(module_root_dir)/../tensorflow/include',
    'tf_lib': '<(module_root_dir)/../tensorflow/lib',
  },
  'targets': [{
    'target_name': 'tfjs_binding',
    'sources': ['binding/tfjs_backend.cc', 'binding/tfjs_binding.cc'],
    'include_dirs': ['<(tf_include)'],
    'defines': ['NAPI_VERSION=8'],
    'cflags_cc': ['-O2', '-Wno-deprecated-declarations'],
    'libraries': [
      '<(tf_lib)/libtensorflow_cc.so.2',
      '<(tf_lib)/libtensorflow_framework.so.2',
      # The addon sits in build/lib/, the wheel's libraries in build/tensorflow/lib/.
      "-Wl,-rpath,'$$ORIGIN/../tensorflow/lib'",
    ],
  }],
}

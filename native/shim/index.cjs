// Stand-in for the `@tensorflow/tfjs` union package, installed only inside
// native/build/js. tfjs-node's backend modules import every symbol they use
// from the union package, and all of those come from tfjs-core; resolving the
// name to the project's own node_modules/@tensorflow/tfjs-core (found by
// walking up from native/build/js) makes the backend register its kernels on
// the very tfjs-core instance that the project's code imports.
module.exports = require("@tensorflow/tfjs-core");

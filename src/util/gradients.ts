/**
 * Registers the gradient functions of the tfjs-core ops. tfjs-core ships them
 * only as extension-less ES modules that Node cannot load directly; the union
 * package's Node bundle registers all of them in tfjs's global registry, which
 * every copy of tfjs-core shares.
 */
import "@tensorflow/tfjs";

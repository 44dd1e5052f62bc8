// The tests import a few plain JavaScript modules (test helpers and scripts in .mjs, one docs example)
// that carry no types; they are `any` here so that the TypeScript around them is still checked.
declare module '*.mjs';
declare module '*/docs/examples/cluster-node.js';

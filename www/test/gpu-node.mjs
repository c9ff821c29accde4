// Gives Node the WebGPU globals of a browser, with Dawn (the `webgpu`
// package) as navigator.gpu: the recipe of the README. Import before kiln.
//
// Dawn's Vulkan backend rejects lavapipe; run with
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (test/run.sh
// sets it) to use SwiftShader where there is no GPU.
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
globalThis.navigator ??= {};
// Node 20 has no navigator; libraries that read its userAgent (jax-js) get
// the one Node 21 and later give.
globalThis.navigator.userAgent ??= `Node.js/${process.versions.node.split('.')[0]}`;
globalThis.navigator.gpu = create([]);

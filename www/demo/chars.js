// Section 4: the character transformer of examples/char_transformer.rs,
// trained natively, built here from kiln.nn modules, loaded from the
// weights file it saved and sampled one character at a time.

import * as kiln from '../src/index.js';
import { breathe } from './pace.js';

const WEIGHTS_URL = './data/char_transformer.safetensors';
const LENGTH = 240;

/** The model of examples/char_model/mod.rs, with the same parameter names. */
class CharModel extends kiln.nn.Module {
  constructor({ vocab, dims, heads, layers }) {
    super();
    this.dims = dims;
    this.embed = new kiln.nn.Embedding(vocab, dims);
    this.blocks = Array.from({ length: layers },
      () => new kiln.nn.TransformerEncoderBlock(dims, heads, { normFirst: true, activation: 'gelu' }));
    this.norm = new kiln.nn.LayerNorm(dims);
    this.head = new kiln.nn.Linear(dims, vocab);
  }

  /** Next-character logits `(B, L, vocab)` for tokens `(B, L)`. */
  forward(tokens) {
    return kiln.tidy(() => {
      let h = kiln.add(this.embed.forward(tokens), kiln.nn.sinusoidalPositions(tokens.shape[1], this.dims));
      for (const block of this.blocks) h = block.forward(h, { causal: true });
      return this.head.forward(this.norm.forward(h));
    });
  }
}

/** The model and its alphabet, from the weights file and its metadata. */
async function loadModel() {
  const { arrays, metadata } = await kiln.io.loadSafetensors(WEIGHTS_URL, { metadata: true });
  const meta = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, JSON.parse(v)]));
  const model = new CharModel(meta);
  await model.loadWeights(arrays);
  model.train(false);
  // One compiled forward pass over a full context window: tokens past the
  // text are padding, which the causal mask keeps from the positions before.
  const forward = kiln.compile((tokens) => model.forward(tokens));
  return { model, forward, meta, alphabet: [...meta.alphabet] };
}

export function setupChars(root) {
  const $ = (sel) => root.querySelector(sel);
  const button = $('[data-role=write]');
  const state = {
    busy: false, loaded: false, parameters: null, meta: null, prompt: null, text: null,
    promptLoss: null, msPerChar: null, arrayGrowth: null, error: null,
  };
  let loaded = null;

  // Token ids of `text`, or an error naming the first character the model
  // has never seen.
  function encode(text, alphabet) {
    return [...text].map((c) => {
      const id = alphabet.indexOf(c);
      if (id < 0) throw new Error(`the model knows no ${JSON.stringify(c)}; use the characters of the fortunes`);
      return id;
    });
  }

  // The logits of the next character after `ids` (the last `context` of them).
  function nextLogits(ids) {
    const { forward, meta } = loaded;
    const window = ids.slice(-meta.context);
    const padded = Int32Array.from({ length: meta.context }, (_, i) => window[i] ?? 0);
    return kiln.tidy(() => {
      const logits = forward(kiln.array(padded, { shape: [1, meta.context], dtype: 'int32' }));
      return kiln.slice(logits, [0, window.length - 1]);
    });
  }

  // Mean negative log-likelihood of each character of `ids` after the first
  // (nats per character): how well the model predicts the text typed.
  async function promptLoss(ids) {
    if (ids.length < 2) return null;
    const { model, meta } = loaded;
    const window = ids.slice(-meta.context);
    const loss = kiln.tidy(() => {
      const tokens = kiln.array(Int32Array.from(window), { shape: [1, window.length], dtype: 'int32' });
      const logits = model.forward(kiln.slice(tokens, [null, [0, window.length - 1]]));
      const targets = kiln.slice(tokens, [null, [1, null]]);
      return kiln.nn.crossEntropy(logits, targets);
    });
    try {
      return await loss.item();
    } finally {
      loss.dispose();
    }
  }

  async function write() {
    Object.assign(state, { busy: true, error: null, text: null, promptLoss: null, msPerChar: null });
    button.disabled = true;
    $('[data-role=message]').textContent = '';
    const out = $('[data-role=sample]');
    try {
      if (!loaded) {
        $('[data-role=model]').textContent = 'Loading the model…';
        loaded = await loadModel();
        const count = kiln.tree.leaves(loaded.model.parameters()).reduce((n, a) => n + a.size, 0);
        Object.assign(state, { loaded: true, parameters: count, meta: loaded.meta });
        const { layers, dims, heads, steps, validation_loss: loss, unigram_entropy: entropy } = loaded.meta;
        $('[data-role=model]').textContent =
          `${count.toLocaleString('en')} parameters (${layers} blocks of ${dims} dims, ${heads} heads), ` +
          `trained ${steps} steps: ${loss.toFixed(3)} nats per character on held-out text, ` +
          `against ${entropy.toFixed(3)} for the characters' frequencies alone.`;
      }
      const prompt = $('[data-role=prompt]').value;
      const temperature = Number($('[data-role=temperature]').value);
      if (!(temperature > 0)) throw new Error('the temperature must be positive');
      const ids = encode(prompt, loaded.alphabet);
      if (ids.length === 0) throw new Error('type a few characters to start from');
      state.prompt = prompt;
      state.promptLoss = await promptLoss(ids);
      $('[data-role=loss]').textContent = state.promptLoss === null ? '' :
        `On your text the model loses ${state.promptLoss.toFixed(3)} nats per character (the last ${Math.min(ids.length, loaded.meta.context)} characters).`;
      out.textContent = prompt;
      let key = kiln.random.key(ids.length);
      const started = performance.now();
      let live = null;
      for (let i = 0; i < LENGTH; i++) {
        // Live arrays once the first step has traced the compiled pass.
        if (i === 1) live = kiln.memory().numArrays;
        const [next, sampleKey] = kiln.tidy(() => [...kiln.random.split(key)]);
        key.dispose();
        key = next;
        const choice = kiln.tidy(() => kiln.random.categorical(sampleKey, nextLogits(ids).div(temperature)));
        sampleKey.dispose();
        const id = await choice.item();
        choice.dispose();
        ids.push(id);
        out.textContent += loaded.alphabet[id];
        await breathe();
      }
      state.arrayGrowth = kiln.memory().numArrays - live;
      key.dispose();
      state.msPerChar = (performance.now() - started) / LENGTH;
      state.text = out.textContent;
    } catch (err) {
      state.error = err.message;
      $('[data-role=message]').textContent = err.message;
    } finally {
      state.busy = false;
      button.disabled = false;
    }
  }

  button.addEventListener('click', (event) => {
    event.preventDefault();
    if (!state.busy) write();
  });
  button.disabled = false;
  return { state, ready: Promise.resolve() };
}

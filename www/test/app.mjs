// What the browser test pages compute with kiln: a matrix product and a
// gradient of inputs the test passes as `?input={"a":..,"b":..,"t":..}`
// (and `"backend"`, init()'s option).
// The result (or the error) goes into #result as JSON, and
// document.body.dataset.status becomes 'done' or 'error'. Without ?input
// the page only loads the package.

async function compute(kiln, { a, b, t, backend }) {
  const info = await kiln.init({ backend });
  const product = await kiln.matmul(kiln.array(a), kiln.array(b)).array();
  // d/dt sum(t tanh t) = tanh t + t (1 - tanh^2 t)
  const df = kiln.grad((x) => kiln.sum(kiln.tanh(x).mul(x)));
  const gradient = Array.from(await df(kiln.array(t)).data());
  return { info, product, gradient };
}

export async function main(kiln) {
  const query = new URLSearchParams(location.search).get('input');
  if (query === null) return;
  const out = document.getElementById('result');
  try {
    const input = JSON.parse(query);
    out.textContent = JSON.stringify(await compute(kiln, input));
    document.body.dataset.status = 'done';
  } catch (e) {
    out.textContent = JSON.stringify({ error: String(e?.stack ?? e) });
    document.body.dataset.status = 'error';
  }
}

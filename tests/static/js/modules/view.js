export function render(markup) {
  document.body.insertAdjacentHTML("beforeend", markup);
}

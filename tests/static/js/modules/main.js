// The guide's module example (guide/modules.md): an entry, a relative import, a bare one from the manifest's
// table, and a dynamic import.
import { render } from "./view.js";
import { html } from "@demo/html";

render(html`<p>ready</p>`);
document.querySelector("#more")?.addEventListener("click", async () => {
  const { details } = await import("./details.js");
  render(details());
});

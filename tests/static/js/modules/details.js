import { html } from "@demo/html";

export const details = () => html`<p>details</p>`;

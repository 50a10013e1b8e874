// Sharing with a clinic, who you share with, who has looked, and your data (download or delete).

import { api } from "../api.js";
import { h } from "../dom.js";
import { pageUrl } from "../nav.js";

function placeholder(ctx, title, text) {
  ctx.title(title);
  ctx.show(h("a", { class: "nhsuk-back-link", href: pageUrl("home") }, "Your folders"), h("h1", {}, title), h("p", { class: "nhsuk-body" }, text));
  ctx.focusHeading();
  ctx.ready();
}

export async function shareView(ctx) {
  placeholder(ctx, "Share with a clinic", "Coming soon.");
}

export async function sharesView(ctx) {
  await api.shares(ctx.signal);
  placeholder(ctx, "Who you share with", "Coming soon.");
}

export async function auditView(ctx) {
  placeholder(ctx, "Who has looked at your photos", "Coming soon.");
}

export async function accountView(ctx) {
  placeholder(ctx, "Download or delete your data", "Coming soon.");
}

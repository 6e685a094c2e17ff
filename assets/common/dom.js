// The one DOM helper of the report pages and the service's page (loaded
// before their scripts): el("td", { class: "num", onclick: f }, child, ...)
// makes an element with attributes, event listeners and children (nodes,
// text, or arrays of them; null and undefined are left out).
"use strict";

window.el = function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
};

// Building DOM nodes without innerHTML: every piece of text from the server
// or the model goes in as text, never as markup.

/** An element with properties (`class`, `text`, `hidden`, `data-*`, any
 * other attribute) and children (nodes or strings). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'onclick') node.addEventListener('click', value);
    else if (name === 'hidden') node.hidden = true;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replaces every child of `node`. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c != null));
}

/** A Unix time in seconds as local date and time. */
export function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : '';
}

/** Shows `message` in the page's error banner, or hides it when empty. */
export function showError(message) {
  const banner = document.getElementById('error');
  banner.textContent = message || '';
  banner.hidden = !message;
}

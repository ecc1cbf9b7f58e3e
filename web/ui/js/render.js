// A message's text as readable blocks: ``` fences become code blocks,
// `backticks` inline code, the rest paragraphs with their line breaks.

import { el } from './dom.js';

function inline(text) {
  const parts = text.split(/(`[^`\n]+`)/);
  return parts.map((part) => (part.length > 2 && part.startsWith('`')
    && part.endsWith('`') ? el('code', { text: part.slice(1, -1) }) : part));
}

function paragraphs(text) {
  return text.split(/\n{2,}/).filter((p) => p.trim() !== '')
    .map((p) => el('p', {}, inline(p)));
}

/** DOM nodes for `text`; an unclosed fence (still streaming) is code too. */
export function renderText(text) {
  const nodes = [];
  const fence = /```([^\n`]*)\n?([\s\S]*?)(```|$)/g;
  let at = 0;
  let match;
  while ((match = fence.exec(text)) !== null) {
    nodes.push(...paragraphs(text.slice(at, match.index)));
    const language = match[1].trim();
    nodes.push(el('figure', { class: 'code' },
      language ? el('figcaption', { text: language }) : null,
      el('pre', {}, el('code', { text: match[2].replace(/\n$/, '') }))));
    at = fence.lastIndex;
  }
  nodes.push(...paragraphs(text.slice(at)));
  return nodes;
}

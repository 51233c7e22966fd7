// Canned response templates (B30): `{{ visitor.name }}`-style variables filled from the chat. A
// variable without a value is reported as missing so the operator is asked for it; nothing is
// ever sent with a blank where a name should be.

import type { ConsoleChat } from '../lib/core';
import type { OperatorProfile } from '../lib/protocol';
import { stripBidiControls } from '../lib/text';

/** The variables a template may use, in the order the prompt asks for them. */
export const VARIABLES = [
  'visitor.name',
  'visitor.email',
  'visitor.page',
  'chat.subject',
  'operator.name',
  'operator.email',
  'liveChat.name',
] as const;

export type VariableName = (typeof VARIABLES)[number];

export type VariableValues = Partial<Record<string, string>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)\s*\}\}/g;

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'variable'; name: string; value: string | null };

/** What the chat and the signed-in operator know; absent or blank values are left out. */
export function chatValues(chat: ConsoleChat, operator: OperatorProfile | null): VariableValues {
  const values: VariableValues = {};
  const set = (name: VariableName, value: string | null | undefined) => {
    // Visitor-supplied values go into a reply: no bidi controls that could disguise the text.
    const clean = value === null || value === undefined ? '' : stripBidiControls(value).trim();
    if (clean !== '') values[name] = clean;
  };
  set('visitor.name', chat.summary.visitor.name);
  set('visitor.email', chat.summary.visitor.email);
  set('visitor.page', chat.summary.visitor.pageUrl);
  set('chat.subject', chat.summary.subject);
  set('operator.name', operator?.name);
  set('operator.email', operator?.email);
  set('liveChat.name', operator?.liveChats.find((live) => live.id === chat.summary.liveChat)?.name);
  return values;
}

/** The template split into text and variables with their values (null when missing). */
export function templateParts(template: string, values: VariableValues): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let position = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > position) parts.push({ kind: 'text', text: template.slice(position, match.index) });
    const name = match[1] ?? '';
    const value = values[name];
    parts.push({ kind: 'variable', name, value: value === undefined || value.trim() === '' ? null : value });
    position = match.index + match[0].length;
  }
  if (position < template.length) parts.push({ kind: 'text', text: template.slice(position) });
  return parts;
}

/** Variables the template uses that have no value, each once, in order of appearance. */
export function missingVariables(template: string, values: VariableValues): string[] {
  const missing: string[] = [];
  for (const part of templateParts(template, values)) {
    if (part.kind === 'variable' && part.value === null && !missing.includes(part.name)) missing.push(part.name);
  }
  return missing;
}

/** The filled text, or null while any variable is missing. */
export function fillTemplate(template: string, values: VariableValues): string | null {
  let text = '';
  for (const part of templateParts(template, values)) {
    if (part.kind === 'text') text += part.text;
    else if (part.value === null) return null;
    else text += part.value;
  }
  return text;
}

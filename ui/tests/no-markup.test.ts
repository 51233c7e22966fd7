/// <reference types="node" />
// Visitor text is hostile: a guard that no source file renders strings as markup.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SOURCE = join(import.meta.dirname, '..', 'src');
const RAW_MARKUP = /\{@html\s|\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write\(/;

function files(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('console sources', () => {
  it('never render strings as markup', () => {
    const offenders = files(SOURCE)
      .filter((path) => /\.(svelte|ts)$/.test(path))
      .filter((path) => RAW_MARKUP.test(readFileSync(path, 'utf8')));
    expect(offenders, 'use text nodes and MessageText, never raw HTML').toEqual([]);
  });

  it('ship an index.html without inline scripts or styles (CSP script-src/style-src self)', () => {
    const html = readFileSync(join(SOURCE, '..', 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style\b|\sstyle=/);
  });
});

import { render } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import MessageText from '../src/chats/MessageText.svelte';
import { safeHref, segmentText, stripBidiControls } from '../src/lib/text';

describe('segmentText', () => {
  it('keeps markup as literal text', () => {
    const body = '<img src=x onerror=alert(1)>';
    expect(segmentText(body)).toEqual([{ kind: 'text', text: body }]);
  });

  it('never links javascript: URLs', () => {
    const segments = segmentText('javascript:alert(1)');
    expect(segments.every((segment) => segment.kind === 'text')).toBe(true);
  });

  it('links https URLs and www. hosts, leaving sentence punctuation outside', () => {
    expect(segmentText('see https://example.com, or www.example.com.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com', href: 'https://example.com/' },
      { kind: 'text', text: ', or ' },
      { kind: 'link', text: 'www.example.com', href: 'https://www.example.com/' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('keeps balanced brackets inside a URL and drops an unbalanced closing one', () => {
    const [, link] = segmentText('(https://en.wikipedia.org/wiki/Foo_(bar))');
    expect(link).toEqual({
      kind: 'link',
      text: 'https://en.wikipedia.org/wiki/Foo_(bar)',
      href: 'https://en.wikipedia.org/wiki/Foo_(bar)',
    });
  });

  it('only links the http part of a javascript URL that smuggles one', () => {
    const segments = segmentText('javascript:alert(1)//https://example.com');
    const links = segments.filter((segment) => segment.kind === 'link');
    expect(links).toEqual([{ kind: 'link', text: 'https://example.com', href: 'https://example.com/' }]);
  });

  it('strips bidi override and isolate characters', () => {
    expect(stripBidiControls('invoice\u202Efdp.exe\u2066x\u2069')).toBe('invoicefdp.exex');
    expect(segmentText('\u202Egnp.exe')).toEqual([{ kind: 'text', text: 'gnp.exe' }]);
  });

  it('accepts only http and https hrefs', () => {
    expect(safeHref('https://example.com/a?b=c')).toBe('https://example.com/a?b=c');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(safeHref('https://')).toBeNull();
  });
});

describe('MessageText', () => {
  it('renders an HTML payload as text, creating no elements', () => {
    const { container } = render(MessageText, { props: { body: '<img src=x onerror=alert(1)><script>alert(2)</script>' } });
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.textContent).toBe('<img src=x onerror=alert(1)><script>alert(2)</script>');
  });

  it('does not turn javascript: into a link', () => {
    const { container } = render(MessageText, { props: { body: 'click javascript:alert(1)' } });
    expect(container.querySelector('a')).toBeNull();
    expect(container.textContent).toBe('click javascript:alert(1)');
  });

  it('renders http(s) and www links as safe anchors', () => {
    const { container } = render(MessageText, {
      props: { body: 'go to https://example.com or www.example.com now' },
    });
    const anchors = [...container.querySelectorAll('a')];
    expect(anchors.map((anchor) => anchor.getAttribute('href'))).toEqual([
      'https://example.com/',
      'https://www.example.com/',
    ]);
    for (const anchor of anchors) {
      expect(anchor.getAttribute('rel')).toBe('noopener noreferrer');
      expect(anchor.getAttribute('target')).toBe('_blank');
    }
    expect(container.textContent).toBe('go to https://example.com or www.example.com now');
  });

  it('shows text without the RTL override', () => {
    const { container } = render(MessageText, { props: { body: 'photo\u202Egnp.exe' } });
    expect(container.textContent).toBe('photognp.exe');
  });

  it('keeps line breaks as text', () => {
    const { container } = render(MessageText, { props: { body: 'one\ntwo' } });
    expect(container.textContent).toBe('one\ntwo');
  });
});

import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { matchingCanned } from '../src/canned/canned.svelte';
import { chatValues, fillTemplate, missingVariables, templateParts } from '../src/canned/variables';
import type { ConsoleChat } from '../src/lib/core';
import { applyMention, matchingColleagues, mentionAt } from '../src/mentions/mentions.svelte';
import { renderConsole } from './render-console';

const chat: ConsoleChat = {
  summary: {
    id: 7,
    liveChat: 1,
    state: 'active',
    channel: 'web',
    visitor: { id: 70, name: ' Maria\u202E ', email: null, pageUrl: 'https://acme.example/pricing' },
    subject: 'Order',
    responsible: { id: 1, name: 'Ann' },
    createdAt: 0,
    updatedAt: 0,
  },
  unread: 0,
  ringing: false,
  awaiting: false,
  group: 'myChats',
};
const ann = { id: 1, name: 'Ann Operator', email: 'ann@example.com', liveChats: [{ id: 1, name: 'Acme', supervisor: false, staffEmoji: true }] };

async function openAcceptedChat() {
  const rendered = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
  const chatId = rendered.fake.simulateNewChat('Maria', 'Order', 'Hello?');
  const user = userEvent.setup();
  await user.click(await screen.findByTestId(`chat-row-${chatId}`));
  await user.click(await screen.findByTestId('accept-button'));
  await waitFor(() => expect(screen.getByTestId('composer-mode')).toHaveTextContent('Reply'));
  return { ...rendered, chatId, user };
}

describe('canned response variables (B30)', () => {
  it('b30 fills_variables_from_the_chat_and_reports_missing_ones', () => {
    const values = chatValues(chat, ann);
    expect(values['visitor.name'], 'trimmed, bidi controls removed').toBe('Maria');
    expect(values['visitor.email']).toBeUndefined();
    expect(values['liveChat.name']).toBe('Acme');

    expect(fillTemplate('Hi {{ visitor.name }}, I am {{operator.name}}.', values)).toBe('Hi Maria, I am Ann Operator.');
    expect(fillTemplate('Mail {{ visitor.email }}', values), 'never a blank').toBeNull();
    expect(missingVariables('{{ visitor.email }} {{ unknown.thing }} {{ visitor.email }}', values)).toEqual([
      'visitor.email',
      'unknown.thing',
    ]);
    expect(fillTemplate('Mail {{ visitor.email }}', { ...values, 'visitor.email': 'm@example.com' })).toBe('Mail m@example.com');
    expect(fillTemplate('Mail {{ visitor.email }}', { ...values, 'visitor.email': '   ' })).toBeNull();
    // Not a placeholder: left as typed.
    expect(fillTemplate('{{ }} {{1a}} {visitor.name}', values)).toBe('{{ }} {{1a}} {visitor.name}');
    expect(templateParts('a{{ x }}b', {})).toEqual([
      { kind: 'text', text: 'a' },
      { kind: 'variable', name: 'x', value: null },
      { kind: 'text', text: 'b' },
    ]);
  });

  it('b30 picker_lists_personal_and_this_live_chats_responses_matching_the_query', () => {
    const all = [
      { id: 1, title: 'Greeting', body: 'Hi', liveChat: 1 },
      { id: 2, title: 'Other shop', body: 'Hi', liveChat: 2 },
      { id: 3, title: 'Goodbye', body: 'Bye, greetings', liveChat: null },
    ];
    expect(matchingCanned(all, '', 1).map((canned) => canned.id)).toEqual([3, 1]);
    expect(matchingCanned(all, 'gre', 1).map((canned) => canned.id)).toEqual([1, 3]);
    expect(matchingCanned(all, 'zzz', 1)).toEqual([]);
  });
});

describe('canned response picker (B30)', () => {
  it('b30 hash_opens_the_picker_and_inserts_the_filled_response_with_a_preview', async () => {
    const { fake, chatId, user } = await openAcceptedChat();
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, '#');
    const picker = await screen.findByTestId('canned-picker');
    expect(input.value, 'the # opened the picker instead of being typed').toBe('');
    await waitFor(() => expect(within(picker).getByTestId('canned-option-1')).toBeInTheDocument());
    expect(screen.getByTestId('canned-search')).toHaveFocus();

    await user.keyboard('gre');
    expect(within(picker).getByTestId('canned-option-1')).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('canned-preview')).toHaveTextContent('Hi Maria, this is Ann Operator. How can I help?');
    await user.keyboard('{Enter}');

    await waitFor(() => expect(screen.queryByTestId('canned-picker')).toBeNull());
    expect(input.value).toBe('Hi Maria, this is Ann Operator. How can I help?');
    expect(input).toHaveFocus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(fake.calls).toContain(`sendMessage ${chatId} public`));
    expect(screen.getAllByTestId('message').at(-1)).toHaveTextContent('Hi Maria, this is Ann Operator.');
  });

  it('b30 a_missing_value_prompts_the_operator_instead_of_sending_a_blank', async () => {
    const { user } = await openAcceptedChat();
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, 'Sure. #');
    await screen.findByTestId('canned-picker');
    await user.keyboard('email');
    await waitFor(() => expect(screen.getByTestId('canned-option-3')).toHaveAttribute('aria-selected', 'true'));
    expect(screen.getByTestId('canned-insert')).toBeDisabled();
    expect(screen.getByTestId('canned-preview').querySelector('mark.missing')).toHaveTextContent('{{ visitor.email }}');

    await user.keyboard('{Enter}');
    const value = screen.getByTestId('canned-value-visitor.email');
    await waitFor(() => expect(value).toHaveFocus());
    expect(screen.getByTestId('canned-picker'), 'still open: nothing inserted').toBeInTheDocument();
    await user.keyboard('maria@example.com{Enter}');
    await waitFor(() => expect(screen.queryByTestId('canned-picker')).toBeNull());
    expect(input.value).toBe('Sure. I will email the details to maria@example.com.');
  });

  it('b30 escape_types_the_hash_and_a_hash_inside_a_word_stays_text', async () => {
    const { user } = await openAcceptedChat();
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, 'order#12');
    expect(input.value).toBe('order#12');
    expect(screen.queryByTestId('canned-picker')).toBeNull();

    await user.type(input, ' #');
    await screen.findByTestId('canned-picker');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('canned-picker')).toBeNull());
    await user.keyboard('34');
    expect(input.value).toBe('order#12 #34');
  });

  it('b30 shows_why_when_canned_responses_cannot_load', async () => {
    const { fake, user } = await openAcceptedChat();
    fake.cannedResponses = async () => {
      throw { code: 'internal', message: 'not connected to the server' };
    };
    await user.click(screen.getByTestId('canned-open'));
    expect(await screen.findByTestId('canned-error')).toHaveTextContent('not connected to the server');
  });
});

describe('knowledge base (B31)', () => {
  it('b31 star_opens_article_search_and_inserts_text_or_link', async () => {
    const { fake, user } = await openAcceptedChat();
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, '*');
    const picker = await screen.findByTestId('article-picker');
    expect(input.value).toBe('');
    expect(screen.getByTestId('article-search')).toHaveFocus();
    await user.keyboard('refund');
    await waitFor(() => expect(fake.calls).toContain('searchArticles refund'));
    await waitFor(() => expect(within(picker).getByTestId('article-option-2')).toHaveAttribute('aria-selected', 'true'));
    expect(within(picker).queryByTestId('article-option-1'), 'server-side search narrowed the list').toBeNull();
    expect(screen.getByTestId('article-preview')).toHaveTextContent('Refunds reach your account');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(screen.queryByTestId('article-picker')).toBeNull());
    expect(input.value).toBe('Refunds reach your account within 5 working days.');

    await user.type(input, ' *');
    await screen.findByTestId('article-picker');
    // The last results are there at once; Alt+Enter inserts the link instead of the text.
    expect(screen.getByTestId('article-option-2')).toBeInTheDocument();
    await user.keyboard('{Alt>}{Enter}{/Alt}');
    await waitFor(() => expect(screen.queryByTestId('article-picker')).toBeNull());
    expect(input.value).toBe('Refunds reach your account within 5 working days. https://help.acme.example/refunds');
  });

  it('b31 failed_search_keeps_the_last_results_and_says_why', async () => {
    const { fake, user } = await openAcceptedChat();
    await user.click(screen.getByTestId('articles-open'));
    await waitFor(() => expect(screen.getByTestId('article-option-1')).toBeInTheDocument());
    fake.searchArticles = async () => {
      throw { code: 'internal', message: 'the server could not be reached: offline' };
    };
    await user.type(screen.getByTestId('article-search'), 'x');
    expect(await screen.findByTestId('article-error')).toHaveTextContent('the server could not be reached');
    expect(screen.getByTestId('article-option-1')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('article-picker')).toBeNull());
    expect(screen.getByTestId<HTMLTextAreaElement>('composer-input').value, 'Escape after a search types nothing').toBe('');
  });
});

describe('@mentions in notes (B26)', () => {
  it('b26 mention_helpers_find_the_word_and_replace_it', () => {
    expect(mentionAt('Ask @bo', 7)).toEqual({ start: 4, query: 'bo' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAt('mail ann@example.com', 20), 'an email address is not a mention').toBeNull();
    const colleagues = [
      { id: 2, name: 'Bob Operator' },
      { id: 3, name: 'Sue Supervisor' },
    ];
    expect(matchingColleagues(colleagues, 'su').map((colleague) => colleague.id)).toEqual([3]);
    expect(matchingColleagues(colleagues, 'OP').map((colleague) => colleague.id)).toEqual([2]);
    expect(applyMention('Ask @bo now', { start: 4, query: 'bo' }, { id: 2, name: 'Bob Operator' })).toEqual({
      text: 'Ask @Bob Operator now',
      caret: 17,
    });
  });

  it('b26 typing_at_in_a_note_suggests_colleagues_and_enter_picks_one', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = userEvent.setup();
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    const input = await screen.findByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, 'Ask @su');
    const list = await screen.findByTestId('mention-list');
    expect(within(list).getByTestId('mention-option-3')).toHaveAttribute('aria-selected', 'true');
    expect(within(list).queryByTestId('mention-option-2')).toBeNull();
    expect(input).toHaveAttribute('aria-activedescendant', `mention-${chat}-3`);
    await user.keyboard('{Enter}');
    await waitFor(() => expect(screen.queryByTestId('mention-list')).toBeNull());
    expect(input.value).toBe('Ask @Sue Supervisor ');
    expect(fake.calls.filter((call) => call.startsWith('sendMessage')), 'Enter picked, did not send').toEqual([]);
    await user.keyboard('please{Enter}');
    await waitFor(() => expect(fake.calls).toContain(`sendMessage ${chat} note`));
  });

  it('b26 no_mentions_in_replies_to_the_visitor', async () => {
    const { user } = await openAcceptedChat();
    await user.type(screen.getByTestId('composer-input'), 'Hi @b');
    expect(screen.queryByTestId('mention-list')).toBeNull();
  });
});

describe('emoji (B32)', () => {
  it('b32 emoji_picker_inserts_at_the_caret_and_walks_with_arrow_keys', async () => {
    const { user } = await openAcceptedChat();
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, 'Thanks');
    await user.click(screen.getByTestId('emoji-open'));
    const picker = await screen.findByTestId('emoji-picker');
    await waitFor(() => expect(within(picker).getByTestId('emoji-0')).toHaveFocus());
    await user.keyboard('{ArrowRight}{ArrowDown}');
    expect(within(picker).getByTestId('emoji-7')).toHaveFocus();
    expect(within(picker).getByTestId('emoji-7')).toHaveAccessibleName('waving hand');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(screen.queryByTestId('emoji-picker')).toBeNull());
    expect(input.value).toBe('Thanks👋');
    expect(input).toHaveFocus();
  });
});

// B34: the customer panel's record: none yet, created from the panel, shown again for the
// visitor's later chat; location and language when the chat carries them.

import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { CustomerRecordStore } from '../src/customer/customer-record.svelte';
import type { Backend } from '../src/lib/backend';
import { FakeBackend } from '../src/lib/fake-backend';
import type { ChatId, Customer } from '../src/lib/protocol';
import { renderConsole } from './render-console';

describe('customer record store', () => {
  it('b34 loads none, creates one, and refuses a second for the same visitor', async () => {
    const fake = new FakeBackend({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Vera', 'Order');
    const store = new CustomerRecordStore(fake);
    await store.load(chat);
    expect(store.state).toEqual({ status: 'loaded', customer: null });
    expect(await store.create(chat, { name: ' Vera Visitor ', email: '', notes: 'Prefers email' })).toBe(true);
    expect(store.state.status === 'loaded' && store.state.customer?.name).toBe('Vera Visitor');
    expect(store.state.status === 'loaded' && store.state.customer?.email).toBeNull();
    expect(await store.create(chat, { name: 'Again', email: '', notes: '' })).toBe(false);
    expect(store.saveError).toContain('already has a customer record');
  });

  it('b34 drops an answer that arrives for a chat no longer shown', async () => {
    const fake = new FakeBackend({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const first = fake.simulateNewChat('Vera', 'Order');
    const second = fake.simulateNewChat('Max', 'Refund');
    const vera = await fake.createCustomer({ chat: first, name: 'Vera', email: null, notes: '' });
    let answerFirst: (customer: Customer | null) => void = () => undefined;
    const slow = {
      chatCustomer: (chat: ChatId) =>
        chat === first ? new Promise<Customer | null>((resolve) => (answerFirst = resolve)) : Promise.resolve(null),
    } as unknown as Backend;
    const store = new CustomerRecordStore(slow);
    const late = store.load(first);
    await store.load(second);
    answerFirst(vera);
    await late;
    expect(store.state).toEqual({ status: 'loaded', customer: null });
  });
});

describe('customer panel', () => {
  it('b34 creates a customer record from the panel and shows it', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Vera', 'Order', 'Where is my parcel?');
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('group-unassigned'));
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    const panel = await screen.findByTestId('customer-panel');
    await user.click(within(panel).getByText('Visitor details'));
    await user.click(await within(panel).findByTestId('customer-create'));
    const name = within(panel).getByTestId<HTMLInputElement>('customer-form-name');
    expect(name.value).toBe('Vera');
    await user.type(within(panel).getByTestId('customer-form-email'), 'vera@example.com');
    await user.type(within(panel).getByTestId('customer-form-notes'), '<img src=x onerror=alert(1)> VIP');
    await user.click(within(panel).getByTestId('customer-form-save'));
    await waitFor(() => expect(within(panel).getByTestId('customer-record-name')).toHaveTextContent('Vera'));
    expect(within(panel).getByTestId('customer-record-email')).toHaveTextContent('vera@example.com');
    // Hostile text stays text.
    expect(within(panel).getByTestId('customer-record-notes')).toHaveTextContent('<img src=x onerror=alert(1)> VIP');
    expect(panel.querySelector('img')).toBeNull();
    expect(within(panel).getByText(/Created by Ann Operator/)).toBeInTheDocument();
  });
});

// Text for the ARIA live region. Screen readers only speak a change, so repeating the same
// sentence alternates a trailing no-break space to make it a change.

export class Announcer {
  text = $state('');

  announce(text: string): void {
    this.text = this.text === text ? `${text}\u00a0` : text;
  }
}

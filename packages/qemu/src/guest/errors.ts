// Every reason the guest command-line renderer (or its inverse) refuses its
// input; humans read describeGuestCmdlineError.

export type GuestCmdlineError =
  | {
      readonly _tag: 'InvalidGuestValue';
      /** Whose value: `nic #1`, `route #2`, `ping #1`, `guest`, or a command-line word. */
      readonly subject: string;
      readonly field: string;
      readonly input: string;
      readonly expected: string;
    }
  | {
      readonly _tag: 'DuplicateGuestValue';
      readonly field: 'mac' | 'name';
      readonly value: string;
      readonly subjects: readonly [string, string];
    }
  | { readonly _tag: 'GuestCmdlineTooLong'; readonly length: number; readonly max: number };

export const invalidGuestValue = (subject: string, field: string, input: unknown, expected: string): GuestCmdlineError => ({
  _tag: 'InvalidGuestValue',
  subject,
  field,
  input: typeof input === 'string' ? input : JSON.stringify(input) ?? String(input),
  expected,
});

export const describeGuestCmdlineError = (e: GuestCmdlineError): string => {
  switch (e._tag) {
    case 'InvalidGuestValue':
      return `${e.subject}: ${e.field} ${JSON.stringify(e.input)} is invalid: expected ${e.expected}`;
    case 'DuplicateGuestValue':
      return `${e.field} ${e.value} is used by both ${e.subjects[0]} and ${e.subjects[1]}: expected each ${e.field} once`;
    case 'GuestCmdlineTooLong':
      return `the guest kernel command line is ${e.length} bytes: expected at most ${e.max} (x86 COMMAND_LINE_SIZE less the NUL)`;
  }
};

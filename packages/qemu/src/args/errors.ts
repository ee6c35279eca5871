// Every reason the renderer refuses its input. Callers switch on `_tag`
// (VfioNotBound needs a human to act); humans read describeArgsError.

export type ArgsError =
  | {
      readonly _tag: 'InvalidValue';
      /** Whose value: `nic "net0"`, `nic #2` (when its id is the problem) or `machine`. */
      readonly subject: string;
      readonly field: string;
      readonly input: string;
      readonly expected: string;
    }
  | {
      readonly _tag: 'DuplicateValue';
      readonly field: 'id' | 'mac' | 'fd';
      readonly value: string;
      /** The two holders of the value, first one first. */
      readonly subjects: readonly [string, string];
    }
  | {
      readonly _tag: 'FdCountMismatch';
      readonly subject: string;
      readonly queueFds: number;
      readonly vhostFds: number;
    }
  | {
      readonly _tag: 'VfioNotBound';
      readonly subject: string;
      readonly bdf: string;
      readonly boundDriver: string | undefined;
    };

export const invalid = (subject: string, field: string, input: unknown, expected: string): ArgsError => ({
  _tag: 'InvalidValue',
  subject,
  field,
  input: typeof input === 'string' ? input : String(input),
  expected,
});

export const describeArgsError = (e: ArgsError): string => {
  switch (e._tag) {
    case 'InvalidValue':
      return `${e.subject}: ${e.field} ${JSON.stringify(e.input)} is invalid: expected ${e.expected}`;
    case 'DuplicateValue':
      return `${e.field} ${e.value} is used by both ${e.subjects[0]} and ${e.subjects[1]}: expected each ${e.field} to be used once`;
    case 'FdCountMismatch':
      return `${e.subject}: ${e.queueFds} queue fds but ${e.vhostFds} vhost fds: expected no vhost fds, or one per queue fd`;
    case 'VfioNotBound': {
      const now = e.boundDriver === undefined ? 'is bound to no driver' : `is bound to ${e.boundDriver}`;
      return (
        `${e.subject}: host NIC ${e.bdf} ${now}, expected vfio-pci. tapwire never rebinds a host NIC: ` +
        `bind ${e.bdf} to vfio-pci yourself (e.g. driverctl set-override ${e.bdf} vfio-pci) and retry`
      );
    }
  }
};

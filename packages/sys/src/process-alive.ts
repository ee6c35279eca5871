// Whether a process exists, by pid: signal 0 checks without sending. EPERM
// means it exists but belongs to someone we may not signal.
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

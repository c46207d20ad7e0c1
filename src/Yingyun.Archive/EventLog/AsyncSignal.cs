namespace Yingyun.Archive.EventLog;

/// <summary>
/// Wakes every waiter once per pulse. A waiter takes <see cref="WaitTask"/> BEFORE it checks for
/// new data; a pulse after that check completes the task it holds, so no wake-up is lost and no
/// one polls.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _current = NewSource();

    public Task WaitTask => Volatile.Read(ref _current).Task;

    public void Pulse() => Interlocked.Exchange(ref _current, NewSource()).TrySetResult();

    // Continuations run on the thread pool, never inline on the writer thread that pulses.
    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

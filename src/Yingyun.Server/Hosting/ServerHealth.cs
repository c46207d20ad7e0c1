using System.Collections.Concurrent;

namespace Yingyun.Server.Hosting;

/// <summary>The state of each part of the server, for <c>/healthz</c>: set by the start-up sequence as each part comes
/// up, and by the parts themselves when they fail or stop.</summary>
public sealed class ServerHealth
{
    public const string Up = "up";
    public const string Starting = "starting";
    public const string Down = "down";
    public const string Stopped = "stopped";

    private readonly ConcurrentDictionary<string, ComponentState> _components = new(StringComparer.Ordinal);

    public void Set(string component, string status, string? detail = null) => _components[component] = new ComponentState(status, detail);

    public IReadOnlyDictionary<string, ComponentState> Components =>
        _components.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value);
}

/// <summary>One part's state (<see cref="ServerHealth.Up"/>, <see cref="ServerHealth.Starting"/>, …) and what it is
/// (a port, a path) or what went wrong.</summary>
public sealed record ComponentState(string Status, string? Detail);

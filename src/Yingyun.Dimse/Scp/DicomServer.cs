using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Yingyun.Dimse;

/// <summary>Configuration of a <see cref="DicomServer"/>.</summary>
public sealed class DicomServerOptions
{
    public IPAddress Address { get; set; } = IPAddress.Any;

    /// <summary>0 picks a free port (see <see cref="DicomServer.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = 11112;

    public string AeTitle { get; set; } = "YINGYUN";

    /// <summary>Negotiation rules; its <see cref="AssociationPolicy.AeTitle"/> defaults to <see cref="AeTitle"/>.</summary>
    public AssociationPolicy Policy { get; set; } = new();

    public DicomAssociationOptions Association { get; set; } = new();

    public DimseServices Services { get; set; } = new();

    /// <summary>TLS on this port (PS3.15 §B.9); null: plain TCP.</summary>
    public DicomTlsOptions? Tls { get; set; }

    /// <summary>Associations at once; more get A-ASSOCIATE-RJ transient "local limit exceeded" (PS3.8 Table 9-21).</summary>
    public int MaximumAssociations { get; set; } = 64;

    public int MaximumAssociationsPerCallingAe { get; set; } = 16;

    /// <summary>Open connections at once, associated or not; beyond this a new connection is closed at once, before
    /// it can cost anything.</summary>
    public int MaximumConnections { get; set; } = 128;
}

/// <summary>The DIMSE listener: accepts connections on a TCP port and runs each as an association acceptor,
/// concurrently. Each association's memory is bounded by its options (a few PDUs), whatever the peer sends.</summary>
public sealed partial class DicomServer : IAsyncDisposable
{
    private readonly DicomServerOptions _options;
    private readonly ILogger _logger;
    private readonly AssociationLimiter _limiter;
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private readonly CancellationTokenSource _abortAll = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _nextConnection;
    private int _stopped;
    private int _disposed;

    public DicomServer(DicomServerOptions options, ILoggerFactory? loggerFactory = null)
    {
        _options = options;
        options.Association.Validate();
        options.Policy.AeTitle ??= options.AeTitle;
        _logger = (ILogger?)loggerFactory?.CreateLogger<DicomServer>() ?? NullLogger.Instance;
        if (options.Services.Logger is NullLogger) options.Services.Logger = _logger;
        _limiter = new AssociationLimiter(options.MaximumAssociations, options.MaximumAssociationsPerCallingAe);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)(_listener?.LocalEndPoint ?? throw new InvalidOperationException("the server is not started"));

    /// <summary>Associations currently counted against the limits.</summary>
    public int ActiveAssociations => _limiter.Total;

    /// <summary>Open connections (associated or still negotiating).</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>Binds and starts accepting.</summary>
    public void Start()
    {
        if (_listener is not null) throw new InvalidOperationException("already started");
        var listener = new Socket(_options.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (_options.Address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            listener.Bind(new IPEndPoint(_options.Address, _options.Port));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        Log.Listening(_logger, listener.LocalEndPoint!, _options.AeTitle);
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (Volatile.Read(ref _stopped) == 0)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException && Volatile.Read(ref _stopped) != 0)
            {
                break;
            }
            catch (SocketException ex)
            {
                // A connection reset before accept completes is the peer's business, not a reason to stop listening.
                Log.AcceptFailed(_logger, ex);
                continue;
            }
            // Small PDUs (A-ASSOCIATE-AC, C-STORE-RSP) must not wait for delayed ACKs (Nagle).
            socket.NoDelay = true;
            if (_connections.Count >= _options.MaximumConnections)
            {
                Log.TooManyConnections(_logger, socket.RemoteEndPoint, _connections.Count);
                socket.Dispose();
                continue;
            }
            long id = Interlocked.Increment(ref _nextConnection);
            var task = HandleConnectionAsync(socket);
            _connections[id] = task;
            _ = task.ContinueWith(static (_, s) =>
            {
                var (server, key) = ((DicomServer, long))s!;
                server._connections.TryRemove(key, out Task? _);
            }, (this, id), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task HandleConnectionAsync(Socket socket)
    {
        await Task.Yield();
        var negotiator = new LimitingNegotiator(this);
        try
        {
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (_options.Tls is { } tls)
            {
                var ssl = new System.Net.Security.SslStream(stream, leaveInnerStreamOpen: false);
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_abortAll.Token);
                handshake.CancelAfter(tls.HandshakeTimeout);
                try
                {
                    await ssl.AuthenticateAsServerAsync(tls.ForServer(), handshake.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException or OperationCanceledException)
                {
                    // No association without a secure transport: the connection closes, nothing else is said.
                    Log.TlsFailed(_logger, socket.RemoteEndPoint, ex.Message);
                    await ssl.DisposeAsync().ConfigureAwait(false);
                    return;
                }
                stream = ssl;
            }
            await DicomAssociation.RunAcceptorAsync(socket, stream, _options.Association, negotiator, _options.Services, _logger, null, _abortAll.Token,
                _ => negotiator.ReleaseSlot()).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Nothing may escape a connection: the association has already answered or aborted what it could.
            Log.ConnectionFailed(_logger, socket.RemoteEndPoint?.ToString() ?? "?", ex);
        }
        finally
        {
            negotiator.ReleaseSlot();
            socket.Dispose();
        }
    }

    /// <summary>The policy, then the limits: a request the policy accepts still needs a free slot.</summary>
    private sealed class LimitingNegotiator(DicomServer server) : IAssociationNegotiator
    {
        private string? _acquiredFor;

        /// <summary>Frees the slot once: when the association ends (release response or abort sent or received, so a
        /// peer that associates again right after its release finds the slot free) or, at the latest, when the
        /// connection closes.</summary>
        public void ReleaseSlot()
        {
            if (Interlocked.Exchange(ref _acquiredFor, null) is { } ae) server._limiter.Release(ae);
        }

        public async ValueTask<AssociationDecision> NegotiateAsync(AssociationRequestContext context, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref server._stopped) != 0)
                return AssociationDecision.Reject(AssociateReject.TemporaryCongestion);
            var decision = await server._options.Policy.NegotiateAsync(context, cancellationToken).ConfigureAwait(false);
            if (decision.AcceptPdu is null) return decision;
            string callingAe = context.Request.CallingAeTitle;
            if (!server._limiter.TryAcquire(callingAe)) return AssociationDecision.Reject(AssociateReject.LocalLimitExceeded);
            _acquiredFor = callingAe;
            return decision;
        }
    }

    /// <summary>Graceful stop: no new connections; associations in progress run to their end, then the storage
    /// commitment reports still being prepared or sent (<see cref="DimseServices.StopReportsAsync"/>). If
    /// <paramref name="cancellationToken"/> fires first, the remaining associations are aborted and the reports
    /// cancelled.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0) _listener?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        using (cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _abortAll))
        {
            await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        }
        await _options.Services.StopReportsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops at once: associations aborted, reports in progress cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _abortAll.CancelAsync().ConfigureAwait(false);
        await StopAsync(new CancellationToken(canceled: true)).ConfigureAwait(false);
        _abortAll.Dispose();
    }
}

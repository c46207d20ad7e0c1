using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>One DICOM association over one transport connection, as requestor or acceptor. It runs the PS3.8 state
/// machine: every received PDU, local primitive, transport event and timer expiry goes through
/// <see cref="UpperLayerStateMachine"/>, and the action the table names is what happens.
/// <para>One receive loop reads the connection. Requests from the peer are handed to the request processor on that
/// loop (a C-STORE data set is streamed to its handler straight from the connection, so memory stays at a few
/// PDUs); responses to our own requests are routed to their waiting callers by message ID. Sends are serialized, one
/// whole message at a time.</para></summary>
public sealed partial class DicomAssociation : IAsyncDisposable
{
    private static long s_nextId;

    private readonly Socket? _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly UpperLayerStateMachine _fsm;
    private readonly Lock _fsmLock = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly DicomAssociationOptions _options;
    private readonly ILogger _logger;
    private readonly IDimseRequestProcessor _processor;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<ushort, PendingRequest> _pending = new();
    private readonly ConcurrentDictionary<ushort, CancellationTokenSource> _cancellations = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Dictionary<byte, PresentationContext> _contexts = [];
    private Timer? _watchdog;
    private long _artimDeadline;
    private long _lastActivity = Environment.TickCount64;
    private int _operationsInProgress;
    private int _nextMessageId;
    private int _transportClosed;
    private volatile AssociationEndReason _endReason;
    private AbortPdu? _abort;

    internal DicomAssociation(Socket? socket, Stream stream, bool isRequestor, DicomAssociationOptions options,
        IDimseRequestProcessor? processor, ILogger? logger)
    {
        options.Validate();
        _socket = socket;
        _stream = stream;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _processor = processor ?? DefaultRequestProcessor.Instance;
        _fsm = new UpperLayerStateMachine(isRequestor);
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(
            bufferSize: options.ReceiveBufferSize, minimumReadSize: Math.Min(4096, options.ReceiveBufferSize), leaveOpen: true));
        Id = Interlocked.Increment(ref s_nextId);
        RemoteEndPoint = socket?.RemoteEndPoint;
        LocalEndPoint = socket?.LocalEndPoint;
        Name = $"#{Id} {RemoteEndPoint}";
    }

    /// <summary>A process-wide sequence number, for logs.</summary>
    public long Id { get; }

    /// <summary>"#id remote" until negotiated, then "#id CALLING→CALLED remote"; for logs.</summary>
    public string Name { get; private set; }

    public bool IsRequestor => _fsm.IsRequestor;

    public UpperLayerState State
    {
        get { lock (_fsmLock) return _fsm.State; }
    }

    public EndPoint? RemoteEndPoint { get; }
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The A-ASSOCIATE-RQ (sent or received); null before negotiation.</summary>
    public AssociateRequest? Request { get; private set; }

    /// <summary>The A-ASSOCIATE-AC (sent or received); null unless the association was accepted.</summary>
    public AssociateAccept? Accept { get; private set; }

    public string CallingAeTitle => Request?.CallingAeTitle ?? "";
    public string CalledAeTitle => Request?.CalledAeTitle ?? "";

    /// <summary>The user identity the requestor presented, if any (PS3.7 §D.3.3.7).</summary>
    public UserIdentityRequest? UserIdentity => Request?.UserInformation.UserIdentity;

    public IReadOnlyCollection<PresentationContext> PresentationContexts => _contexts.Values;

    /// <summary>Largest P-DATA-TF variable field we send: the peer's maximum length, capped by our own send limit.</summary>
    public uint SendPduLength { get; private set; }

    /// <summary>Completes when the connection is closed, however the association ended.</summary>
    public Task Completion => _completion.Task;

    public AssociationEndReason EndReason => _endReason;

    /// <summary>The A-ABORT that ended the association, if any.</summary>
    public AbortPdu? Abort => _abort;

    /// <summary>Cancelled when the association ends: handlers tie their work to it.</summary>
    public CancellationToken Aborted => _lifetime.Token;

    public PresentationContext? GetPresentationContext(byte id) => _contexts.GetValueOrDefault(id);

    internal DicomAssociationOptions Options => _options;

    /// <summary>Whether we may send requests of <paramref name="pc"/>'s SOP class: as requestor when the requestor
    /// keeps the SCU role, as acceptor only when the requestor took the SCP role (PS3.7 §D.3.3.4).</summary>
    public bool CanInvoke(PresentationContext pc) => pc.IsAccepted && (IsRequestor ? pc.RequestorIsScu : pc.RequestorIsScp);

    /// <summary>Whether we hold the SCP role of <paramref name="pc"/>'s SOP class: as acceptor unless the requestor gave
    /// up the SCU role, as requestor only when it took the SCP role (PS3.7 §D.3.3.4). The SCP is the one that sends the
    /// notifications of its SOP class: the N-EVENT-REPORT of Storage Commitment (PS3.4 §J.3.3).</summary>
    public bool IsScpFor(PresentationContext pc) => pc.IsAccepted && (IsRequestor ? pc.RequestorIsScp : pc.RequestorIsScu);

    /// <summary>The first accepted context for <paramref name="abstractSyntax"/> on which we may send requests (see
    /// <see cref="CanInvoke"/>), preferring <paramref name="transferSyntax"/> when several were accepted.</summary>
    public PresentationContext? FindPresentationContext(string abstractSyntax, string? transferSyntax = null)
    {
        PresentationContext? any = null;
        foreach (var pc in _contexts.Values.OrderBy(p => p.Id))
        {
            if (!CanInvoke(pc) || pc.AbstractSyntax != abstractSyntax) continue;
            if (transferSyntax is null || pc.TransferSyntax!.Uid == transferSyntax) return pc;
            any ??= pc;
        }
        return any;
    }

    internal ushort NextMessageId()
    {
        // Message IDs only need to be unique among outstanding operations (PS3.7 §9.1.1.1); skip 0 for readability.
        while (true)
        {
            ushort id = (ushort)Interlocked.Increment(ref _nextMessageId);
            if (id != 0 && !_pending.ContainsKey(id)) return id;
        }
    }

    private UpperLayerAction Fire(UpperLayerEvent evt)
    {
        UpperLayerState before;
        UpperLayerAction action;
        lock (_fsmLock)
        {
            before = _fsm.State;
            action = _fsm.Fire(evt);
        }
        if (_logger.IsEnabled(LogLevel.Debug)) Log.Transition(_logger, Name, before, evt, action);
        return action;
    }

    private void StartArtim() => Volatile.Write(ref _artimDeadline, Environment.TickCount64 + (long)_options.ArtimTimeout.TotalMilliseconds);

    private void StopArtim() => Volatile.Write(ref _artimDeadline, 0);

    /// <summary>Sta13 after we sent the last PDU (A-ASSOCIATE-RJ, A-RELEASE-RP, A-ABORT): start ARTIM and wait for the
    /// peer to close the connection (PS3.8 §9.2, AE-8, AR-4, AA-1). We also shut down our sending side, since we have
    /// nothing more to say: the peer sees the end of the stream right after our PDU rather than only at ARTIM expiry,
    /// which spares a slow or hostile peer's socket from lingering.</summary>
    private void AwaitTransportClose()
    {
        StartArtim();
        try
        {
            if (Volatile.Read(ref _transportClosed) == 0) _socket?.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    private void StartWatchdog()
    {
        double shortest = _options.ArtimTimeout.TotalMilliseconds;
        if (_options.IdleTimeout is { } idle) shortest = Math.Min(shortest, idle.TotalMilliseconds);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(shortest / 4, 10, 1000));
        _watchdog = new Timer(static s => ((DicomAssociation)s!).OnWatchdogTick(), this, period, period);
    }

    private void OnWatchdogTick()
    {
        try
        {
            OnWatchdog();
        }
        catch (Exception ex)
        {
            // A timer callback must not throw: that would end the process.
            Log.ConnectionFailed(_logger, Name, ex);
        }
    }

    private void OnWatchdog()
    {
        if (Volatile.Read(ref _transportClosed) != 0) return;
        long now = Environment.TickCount64;
        long artim = Volatile.Read(ref _artimDeadline);
        if (artim != 0 && now >= artim)
        {
            var state = State;
            // Evt18 is defined in Sta2 and Sta13 only (Table 9-10): AA-2, close the transport.
            if (Fire(UpperLayerEvent.Evt18) == UpperLayerAction.AA2)
            {
                Log.ArtimExpired(_logger, Name, state);
                StopArtim();
                CloseTransport(AssociationEndReason.ArtimExpired);
            }
            return;
        }
        if (_options.IdleTimeout is { } idle && Volatile.Read(ref _operationsInProgress) == 0 && State == UpperLayerState.Sta6
            && now - Volatile.Read(ref _lastActivity) >= (long)idle.TotalMilliseconds)
        {
            Log.IdleTimeout(_logger, Name, idle);
            Touch();
            _ = AbortAsync();
        }
    }

    /// <summary>A-ABORT request primitive (Evt15): AA-1 sends an A-ABORT with the service-user as source and waits
    /// (ARTIM) for the peer to close; before the transport is up (Sta4) AA-2 just closes.</summary>
    public Task AbortAsync() => AbortCoreAsync(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified));

    /// <summary>Server shutdown: A-ABORT, then close at once instead of waiting (ARTIM) for the peer to close.</summary>
    internal async Task AbortAndCloseAsync()
    {
        await AbortAsync().ConfigureAwait(false);
        CloseTransport(AssociationEndReason.AbortedLocally);
    }

    private async Task AbortCoreAsync(AbortPdu abort)
    {
        var action = Fire(UpperLayerEvent.Evt15);
        switch (action)
        {
            case UpperLayerAction.AA1:
                _abort = abort;
                SetEndReason(AssociationEndReason.AbortedLocally);
                await SendControlPduAsync(PduEncoder.Encode(abort)).ConfigureAwait(false);
                AwaitTransportClose();
                FailPending(new DicomAssociationAbortedException(abort, "the association was aborted locally"));
                break;
            case UpperLayerAction.AA2:
                CloseTransport(AssociationEndReason.AbortedLocally);
                break;
            case UpperLayerAction.None when State is UpperLayerState.Sta2:
                // Sta2 has no Evt15 (the user has not seen the association yet): closing is all there is to do.
                CloseTransport(AssociationEndReason.AbortedLocally);
                break;
        }
    }

    /// <summary>A-RELEASE request primitive (Evt11, AR-1): sends A-RELEASE-RQ and waits for the A-RELEASE-RP
    /// (or a release collision, PS3.8 §9.2 Sta9–Sta12) and the close of the connection. It first waits for the request
    /// the peer sent us that is being served and for the operations in progress, so it must not be called from a
    /// request handler of this same association.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        // Once the A-RELEASE-RQ is out we may send no P-DATA (PS3.8 Sta7 has no Evt9): a response still being written
        // to a request the peer sent us (an N-EVENT-REPORT on this association, say) goes first.
        await Volatile.Read(ref _requestInProgress).WaitAsync(cancellationToken).ConfigureAwait(false);
        await WaitForOperationsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var action = Fire(UpperLayerEvent.Evt11);
        if (action != UpperLayerAction.AR1)
        {
            if (_endReason == AssociationEndReason.Released) return;
            throw new DicomAssociationException($"cannot release in state {State}");
        }
        await SendControlPduAsync(PduEncoder.EncodeReleaseRequest()).ConfigureAwait(false);
        using var reg = cancellationToken.Register(static s => _ = ((DicomAssociation)s!).AbortAsync(), this);
        await _released.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends an association-level PDU (not P-DATA) under the send lock. A send that cannot get the lock within
    /// the ARTIM time (a stuck data transfer) closes the transport instead.</summary>
    private async ValueTask SendControlPduAsync(byte[] pdu)
    {
        if (Volatile.Read(ref _transportClosed) != 0) return;
        if (!await _sendLock.WaitAsync(_options.ArtimTimeout).ConfigureAwait(false))
        {
            CloseTransport(AssociationEndReason.TransportClosed);
            return;
        }
        try
        {
            await _stream.WriteAsync(pdu).ConfigureAwait(false);
            await _stream.FlushAsync().ConfigureAwait(false);
            Touch();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            CloseTransport(AssociationEndReason.TransportClosed);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void SetEndReason(AssociationEndReason reason)
    {
        if (_endReason == AssociationEndReason.None) _endReason = reason;
        // The association is over from here (Sta13 or Sta1), even if the transport lingers until the peer closes.
        if (Interlocked.Exchange(ref _endedSignalled, 1) == 0) _ended?.Invoke(this);
    }

    private int _endedSignalled;
    private int _peerRequestedRelease;
    private Task _requestInProgress = Task.CompletedTask;
    private Action<DicomAssociation>? _ended;

    /// <summary>Closes the connection (the "close transport connection" of AE-4, AR-3, AA-2–AA-5, AR-5) and
    /// finishes the association.</summary>
    private void CloseTransport(AssociationEndReason reason)
    {
        SetEndReason(reason);
        if (Interlocked.Exchange(ref _transportClosed, 1) != 0) return;
        StopArtim();
        _watchdog?.Dispose();
        try
        {
            _socket?.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        _stream.Dispose();
        _socket?.Dispose();
        lock (_fsmLock)
        {
            // Whatever the table's last action was, once the transport is gone the machine is idle (Sta1).
            while (_fsm.State != UpperLayerState.Sta1 && _fsm.Fire(UpperLayerEvent.Evt17) != UpperLayerAction.None) { }
        }
        var error = _endReason switch
        {
            AssociationEndReason.Released => new DicomAssociationException("the association was released"),
            AssociationEndReason.AbortedByPeer => new DicomAssociationAbortedException(_abort, $"the peer aborted the association ({_abort})"),
            AssociationEndReason.AbortedLocally => new DicomAssociationAbortedException(_abort, "the association was aborted locally"),
            _ => (DicomAssociationException)new DicomAssociationAbortedException(null, $"the association ended: {_endReason}"),
        };
        FailPending(error);
        _released.TrySetException(error);
        _released.Task.Exception?.Handle(_ => true);
        try
        {
            _lifetime.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered by a handler failed; the association is over either way.
        }
        Log.Ended(_logger, Name, _endReason);
        _completion.TrySetResult();
    }

    private void FailPending(Exception error)
    {
        foreach (var (id, pending) in _pending)
        {
            if (_pending.TryRemove(id, out _)) pending.Responses.Writer.TryComplete(error);
        }
    }

    /// <summary>Aborts the association if it is still up and closes the connection at once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _transportClosed) == 0)
        {
            var state = State;
            if (state is not (UpperLayerState.Sta1 or UpperLayerState.Sta13)) await AbortAsync().ConfigureAwait(false);
            CloseTransport(_endReason == AssociationEndReason.None ? AssociationEndReason.AbortedLocally : _endReason);
        }
        // Another thread (the watchdog, the receive loop) may be inside CloseTransport: let it finish before the
        // resources it uses go away.
        await _completion.Task.ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
        _sendLock.Dispose();
        _lifetime.Dispose();
    }

    // ---------------------------------------------------------------- sending P-DATA

    /// <summary>Sends one DIMSE message: the command set, then the data set if any, fragmented into P-DATA-TF PDUs no
    /// larger than <see cref="SendPduLength"/> (PS3.8 §9.3.5, Annex E). The data set is read from
    /// <paramref name="dataSet"/> straight into the PDU buffer, never loaded whole.</summary>
    public async Task SendMessageAsync(byte presentationContextId, DimseCommand command, Stream? dataSet, CancellationToken cancellationToken = default)
    {
        if (command.HasDataSet != (dataSet is not null))
            throw new ArgumentException("the command's CommandDataSetType must match whether a data set is given", nameof(dataSet));
        if (!_contexts.TryGetValue(presentationContextId, out var pc) || !pc.IsAccepted)
            throw new ArgumentException($"presentation context {presentationContextId} was not accepted", nameof(presentationContextId));

        int pdvCapacity = (int)SendPduLength - 6;
        byte[] commandBytes = CommandSetCodec.Encode(command);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)SendPduLength + 6);
        byte[]? next = null;
        bool started = false, abortAfterwards = false;
        Interlocked.Increment(ref _operationsInProgress);
        try
        {
            // Command fragments (message control header bit 0 = 1, PS3.8 §E.2).
            int sent = 0;
            do
            {
                int n = Math.Min(pdvCapacity, commandBytes.Length - sent);
                bool last = sent + n == commandBytes.Length;
                commandBytes.AsSpan(sent, n).CopyTo(buffer.AsSpan(12));
                await WritePDataAsync(buffer, presentationContextId, n, (byte)(last ? 0x03 : 0x01), cancellationToken).ConfigureAwait(false);
                started = true;
                sent += n;
            }
            while (sent < commandBytes.Length);

            if (dataSet is null) return;

            // Data fragments, read one PDU ahead so that the last one carries the "last fragment" bit.
            next = ArrayPool<byte>.Shared.Rent((int)SendPduLength + 6);
            int current = await FillAsync(dataSet, buffer.AsMemory(12, pdvCapacity), cancellationToken).ConfigureAwait(false);
            while (true)
            {
                int following = current < pdvCapacity ? 0 : await FillAsync(dataSet, next.AsMemory(12, pdvCapacity), cancellationToken).ConfigureAwait(false);
                bool last = following == 0;
                await WritePDataAsync(buffer, presentationContextId, current, (byte)(last ? 0x02 : 0x00), cancellationToken).ConfigureAwait(false);
                if (last) break;
                (buffer, next) = (next, buffer);
                current = following;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException && Volatile.Read(ref _transportClosed) == 0)
        {
            CloseTransport(AssociationEndReason.TransportClosed);
            throw new DicomAssociationAbortedException(null, $"the connection failed while sending: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw new DicomAssociationAbortedException(_abort, $"the association ended while sending ({_endReason})");
        }
        catch (Exception ex) when (started && ex is not DicomAssociationException)
        {
            // The data set source failed (or the caller cancelled) after part of the message went out: the peer
            // cannot be brought back in step (PS3.7 §6.3.1 has no way to withdraw a fragment), so abort.
            abortAfterwards = true;
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _operationsInProgress);
            ArrayPool<byte>.Shared.Return(buffer);
            if (next is not null) ArrayPool<byte>.Shared.Return(next);
            _sendLock.Release();
            // After the lock is free: the abort itself needs it to send the A-ABORT.
            if (abortAfterwards) _ = AbortAsync();
        }
    }

    private static async ValueTask<int> FillAsync(Stream source, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = await source.ReadAsync(destination[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Writes one P-DATA-TF PDU holding one PDV whose data already sits at <paramref name="buffer"/>[12..].
    /// Each PDU is a P-DATA request primitive (Evt9): DT-1 in Sta6, AR-7 in Sta8; anything else refuses.</summary>
    private async ValueTask WritePDataAsync(byte[] buffer, byte presentationContextId, int dataLength, byte messageControlHeader, CancellationToken cancellationToken)
    {
        var action = Fire(UpperLayerEvent.Evt9);
        if (action is not (UpperLayerAction.DT1 or UpperLayerAction.AR7))
            throw new DicomAssociationAbortedException(_abort, $"cannot send P-DATA in state {State} ({_endReason})");
        // PDU header (PS3.8 §9.3.5): type 04H, reserved, length; then the PDV item (§9.3.5.1): item length,
        // presentation context ID, message control header (§E.2).
        buffer[0] = (byte)PduType.PData;
        buffer[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(2), (uint)(dataLength + 6));
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(6), (uint)(dataLength + 2));
        buffer[10] = presentationContextId;
        buffer[11] = messageControlHeader;
        await _stream.WriteAsync(buffer.AsMemory(0, 12 + dataLength), cancellationToken).ConfigureAwait(false);
        Touch();
    }

    // ---------------------------------------------------------------- requests we send

    /// <summary>Sends a request and yields its responses as they arrive: several for C-FIND, C-MOVE and C-GET
    /// (pending status), one for the others. Ends after the first non-pending response.</summary>
    public async IAsyncEnumerable<DimseResponse> SendRequestAsync(byte presentationContextId, DimseCommand request, Stream? dataSet,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!request.IsRequest) throw new ArgumentException("not a request", nameof(request));
        if (request.MessageId == 0) request.MessageId = NextMessageId();
        var pending = new PendingRequest(request.MessageId);
        if (!_pending.TryAdd(request.MessageId, pending))
            throw new InvalidOperationException($"message ID {request.MessageId} is already outstanding");
        try
        {
            if (Volatile.Read(ref _transportClosed) != 0)
                throw new DicomAssociationAbortedException(_abort, $"the association has ended ({_endReason})");
            // Checked after the request is registered: the receive loop sets the flag before failing what is registered.
            if (Volatile.Read(ref _peerRequestedRelease) != 0)
                throw new DicomAssociationException("the peer has requested release: it can send no more responses (PS3.8 Sta7)");
            await SendMessageAsync(presentationContextId, request, dataSet, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _operationsInProgress);
            try
            {
                while (true)
                {
                    DimseResponse response;
                    try
                    {
                        response = await pending.Responses.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (System.Threading.Channels.ChannelClosedException ex) when (ex.InnerException is not null)
                    {
                        throw ex.InnerException;
                    }
                    yield return response;
                    if (!response.Command.Status.IsPending) yield break;
                }
            }
            finally
            {
                Interlocked.Decrement(ref _operationsInProgress);
            }
        }
        finally
        {
            _pending.TryRemove(request.MessageId, out _);
            // A caller that stops listening early must not leave the receive loop blocked on a full channel.
            pending.Responses.Writer.TryComplete();
        }
    }

    /// <summary>Sends a request that has exactly one response (C-ECHO, C-STORE, N-ACTION…) and returns it.</summary>
    public async Task<DimseResponse> SendSingleRequestAsync(byte presentationContextId, DimseCommand request, Stream? dataSet, CancellationToken cancellationToken = default)
    {
        await foreach (var response in SendRequestAsync(presentationContextId, request, dataSet, cancellationToken).ConfigureAwait(false))
            if (!response.Command.Status.IsPending) return response;
        throw new DicomAssociationException($"no final response to {request}");
    }

    /// <summary>Sends C-CANCEL-RQ for an outstanding C-FIND, C-MOVE or C-GET (PS3.7 §9.3.2.3).</summary>
    public Task SendCancelAsync(byte presentationContextId, ushort messageIdBeingCancelled, CancellationToken cancellationToken = default)
    {
        var cancel = new DimseCommand { CommandField = DimseCommandField.CCancelRequest, MessageIdBeingRespondedTo = messageIdBeingCancelled, HasDataSet = false };
        return SendMessageAsync(presentationContextId, cancel, null, cancellationToken);
    }

    /// <summary>Sends a response to a request received on <paramref name="presentationContextId"/>.</summary>
    public Task SendResponseAsync(byte presentationContextId, DimseCommand response, ReadOnlyMemory<byte>? dataSet = null, CancellationToken cancellationToken = default)
    {
        response.HasDataSet = dataSet is not null;
        if (dataSet is null) return SendMessageAsync(presentationContextId, response, null, cancellationToken);
        return SendWithMemoryAsync(presentationContextId, response, dataSet.Value, cancellationToken);
    }

    private async Task SendWithMemoryAsync(byte presentationContextId, DimseCommand command, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await using var stream = new ReadOnlyMemoryStream(bytes);
        await SendMessageAsync(presentationContextId, command, stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="operation"/> in the background, counted as in progress (no idle abort, release
    /// waits for it) and cancellable by a C-CANCEL-RQ naming <paramref name="messageId"/>.</summary>
    internal void StartOperation(ushort messageId, Func<CancellationToken, Task> operation)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        _cancellations[messageId] = cts;
        Interlocked.Increment(ref _operationsInProgress);
        var task = Task.Run(async () =>
        {
            try
            {
                await operation(cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or DicomAssociationException)
            {
            }
            catch (Exception ex)
            {
                Log.HandlerFailed(_logger, Name, $"message {messageId}", ex);
            }
            finally
            {
                _cancellations.TryRemove(messageId, out _);
                cts.Dispose();
                Interlocked.Decrement(ref _operationsInProgress);
                Touch();
            }
        });
        lock (_operations) _operations.Add(task);
    }

    private readonly List<Task> _operations = [];

    /// <summary>Runs <paramref name="operation"/> counted as in progress (no idle abort; a release from the peer waits
    /// for it before answering), bound to the association's lifetime; for work this side starts on its own, such
    /// as an N-EVENT-REPORT sent on the association of the N-ACTION.</summary>
    internal async Task<T> RunOperationAsync<T>(Func<CancellationToken, Task<T>> operation)
    {
        Interlocked.Increment(ref _operationsInProgress);
        try
        {
            var task = operation(_lifetime.Token);
            lock (_operations) _operations.Add(task);
            return await task.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _operationsInProgress);
            Touch();
        }
    }

    private async Task WaitForOperationsAsync()
    {
        Task[] running;
        lock (_operations)
        {
            _operations.RemoveAll(t => t.IsCompleted);
            running = [.. _operations];
        }
        // An operation's failure is its own caller's business (see RunOperationAsync); here only its end matters.
        if (running.Length > 0) await Task.WhenAll(running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private sealed class PendingRequest(ushort messageId)
    {
        public ushort MessageId { get; } = messageId;

        // Bounded: a peer streaming C-FIND matches faster than the caller consumes them waits on the loop, which
        // stops reading the connection — TCP flow control instead of unbounded memory.
        public System.Threading.Channels.Channel<DimseResponse> Responses { get; } =
            System.Threading.Channels.Channel.CreateBounded<DimseResponse>(new System.Threading.Channels.BoundedChannelOptions(64)
            {
                SingleReader = true,
                SingleWriter = true,
            });
    }
}

/// <summary>A response received for one of our requests; <see cref="DataSet"/> holds its data set bytes (in the
/// presentation context's transfer syntax) when it has one.</summary>
public sealed record DimseResponse(DimseCommand Command, byte[]? DataSet, PresentationContext PresentationContext);

/// <summary>A read-only stream over memory, without MemoryStream's copy of a ReadOnlyMemory.</summary>
internal sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> bytes) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => bytes.Length;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, bytes.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, bytes.Length - _position);
        bytes.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => bytes.Length + offset,
    };

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

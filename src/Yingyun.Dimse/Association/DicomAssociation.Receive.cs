using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

public sealed partial class DicomAssociation
{
    private enum PduOutcome
    {
        /// <summary>A P-DATA-TF PDU was accepted for delivery (DT-2/AR-6): its PDVs follow.</summary>
        PData,
        /// <summary>An association-level PDU was handled; keep reading.</summary>
        Continue,
        /// <summary>The machine is idle (Sta1): the connection is closed.</summary>
        Ended,
        /// <summary>AE-6: an A-ASSOCIATE-RQ to answer (<see cref="_receivedPdu"/>).</summary>
        AssociateRequest,
        /// <summary>AE-3: our request was accepted (<see cref="_receivedPdu"/>).</summary>
        AssociateAccept,
        /// <summary>AE-4: our request was rejected (<see cref="_receivedPdu"/>).</summary>
        AssociateReject,
    }

    private object? _receivedPdu;
    private uint _pduRemaining;
    private uint _pdvRemaining;
    private byte _pdvContextId;
    private byte _pdvControl;
    private bool _messageInProgress;
    private bool _dataSetEnded;
    private bool _draining;

    private bool PdvIsCommand => (_pdvControl & 0x01) != 0;
    private bool PdvIsLast => (_pdvControl & 0x02) != 0;

    /// <summary>Reads the connection until the association ends: messages go to the processor or to the callers
    /// waiting for responses; association PDUs drive the state machine.</summary>
    private async Task ReceiveLoopAsync()
    {
        while (Volatile.Read(ref _transportClosed) == 0)
        {
            try
            {
                if (_draining)
                {
                    await DrainUntilClosedAsync().ConfigureAwait(false);
                    continue;
                }
                if (!await NextPdvAsync().ConfigureAwait(false)) continue;
                await ReceiveMessageAsync().ConfigureAwait(false);
            }
            catch (DicomAssociationException)
            {
                // The state machine has acted already (abort sent or transport closed); keep reading until closed.
            }
            catch (Exception ex)
            {
                Log.ConnectionFailed(_logger, Name, ex);
                await AbortCoreAsync(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified)).ConfigureAwait(false);
                _draining = true;
            }
        }
    }

    /// <summary>After we sent an A-ABORT (Sta13) nothing the peer sends matters: discard until it closes the
    /// connection (AR-5) or the ARTIM timer closes it (AA-2).</summary>
    private async Task DrainUntilClosedAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync().ConfigureAwait(false);
                _input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) break;
            }
        }
        catch (Exception ex) when (IsTransportError(ex))
        {
        }
        OnTransportClosed();
    }

    private static bool IsTransportError(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException;

    /// <summary>Evt17: the transport closed (AA-4 A-P-ABORT, AA-5, AR-5 after release or abort).</summary>
    private void OnTransportClosed()
    {
        if (Volatile.Read(ref _transportClosed) != 0) return;
        var action = Fire(UpperLayerEvent.Evt17);
        CloseTransport(action == UpperLayerAction.AR5 && _endReason == AssociationEndReason.None ? AssociationEndReason.Released : AssociationEndReason.TransportClosed);
    }

    /// <summary>Evt19 (unrecognized or invalid PDU): AA-1 in Sta2, AA-8 while associated, AA-7 in Sta13. The A-ABORT
    /// names the service provider as source and the diagnosis as reason (PS3.8 §9.3.8, Table 9-26), so the peer
    /// learns what was wrong. PS3.8 Table 9-9 labels AA-1 "service-user source" because its common trigger is the
    /// local abort request (Evt15); for a protocol error the provider is the one aborting.</summary>
    private async Task<PduOutcome> OnProtocolErrorAsync(AbortReason reason, string message, UpperLayerEvent evt = UpperLayerEvent.Evt19)
    {
        Log.ProtocolError(_logger, Name, reason, message);
        var action = Fire(evt);
        switch (action)
        {
            case UpperLayerAction.AA1 or UpperLayerAction.AA7 or UpperLayerAction.AA8:
                var abort = new AbortPdu(AbortSource.ServiceProvider, reason);
                _abort ??= abort;
                SetEndReason(AssociationEndReason.AbortedLocally);
                await SendControlPduAsync(PduEncoder.Encode(abort)).ConfigureAwait(false);
                AwaitTransportClose();
                _draining = true;
                FailPending(new DicomAssociationAbortedException(abort, $"protocol error: {message}"));
                break;
            case UpperLayerAction.AA6:
                break;
            default:
                CloseTransport(AssociationEndReason.AbortedLocally);
                break;
        }
        return State == UpperLayerState.Sta1 ? PduOutcome.Ended : PduOutcome.Continue;
    }

    /// <summary>A DIMSE-level violation (fragments out of order, an undecodable command set): the upper layer is
    /// fine, so the DIMSE user aborts (Evt15, AA-1, source service-user, PS3.7 §9.1 and PS3.8 §7.3).</summary>
    private async Task<DicomAssociationAbortedException> DimseViolationAsync(string message)
    {
        Log.DimseError(_logger, Name, message);
        await AbortCoreAsync(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified)).ConfigureAwait(false);
        _draining = true;
        return new DicomAssociationAbortedException(_abort, $"DIMSE protocol error: {message}");
    }

    private DicomAssociationAbortedException Ended() =>
        new(_abort, $"the association ended ({_endReason}) in the middle of a message");

    // ---------------------------------------------------------------- PDU level

    /// <summary>Reads the next PDU and fires its event. The PDU type is checked on its first byte, so a stray
    /// protocol (an HTTP request) is refused before anything else is read; the length is checked against our limits
    /// before a byte of the body is buffered.</summary>
    private async Task<PduOutcome> ReadPduAsync()
    {
        PduType type;
        uint length;
        try
        {
            var header = await ReadPduHeaderAsync().ConfigureAwait(false);
            if (header is null)
            {
                OnTransportClosed();
                return PduOutcome.Ended;
            }
            (type, length) = header.Value;
        }
        catch (PduFormatException ex)
        {
            return await OnProtocolErrorAsync(ex.Reason, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportError(ex))
        {
            OnTransportClosed();
            return PduOutcome.Ended;
        }

        if (type == PduType.PData)
        {
            // PS3.8 §D.1: the peer must not exceed the maximum length we advertised. A P-DATA-TF holds at least one
            // PDV item, whose header alone is 6 bytes (§9.3.5).
            if (length > _options.MaximumPduLength)
                return await OnProtocolErrorAsync(AbortReason.InvalidPduParameterValue, $"P-DATA-TF of {length} bytes exceeds the negotiated maximum {_options.MaximumPduLength}").ConfigureAwait(false);
            if (length < 6)
                return await OnProtocolErrorAsync(AbortReason.InvalidPduParameterValue, $"P-DATA-TF of {length} bytes cannot hold a PDV item").ConfigureAwait(false);
            var action = Fire(UpperLayerEvent.Evt10);
            switch (action)
            {
                case UpperLayerAction.DT2 or UpperLayerAction.AR6:
                    _pduRemaining = length;
                    return PduOutcome.PData;
                case UpperLayerAction.AA6:
                    // Sta13 ignores the PDU. A peer that closes inside its body has simply closed (Evt17, AR-5).
                    if (await SkipAsync(length).ConfigureAwait(false)) return PduOutcome.Continue;
                    OnTransportClosed();
                    return PduOutcome.Ended;
                default:
                    return await UnexpectedPduAsync(action, type).ConfigureAwait(false);
            }
        }

        if (length > (uint)_options.MaximumAssociatePduLength)
            return await OnProtocolErrorAsync(AbortReason.InvalidPduParameterValue, $"{type} PDU of {length} bytes exceeds the limit of {_options.MaximumAssociatePduLength}").ConfigureAwait(false);

        byte[] body = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        object pdu;
        UpperLayerEvent evt;
        try
        {
            if (!await ReadExactlyAsync(body.AsMemory(0, (int)length)).ConfigureAwait(false))
            {
                OnTransportClosed();
                return PduOutcome.Ended;
            }
            var span = body.AsSpan(0, (int)length);
            (pdu, evt) = type switch
            {
                PduType.AssociateRequest => ((object)PduDecoder.DecodeAssociateRequest(span), UpperLayerEvent.Evt6),
                PduType.AssociateAccept => (PduDecoder.DecodeAssociateAccept(span), UpperLayerEvent.Evt3),
                PduType.AssociateReject => (PduDecoder.DecodeAssociateReject(span), UpperLayerEvent.Evt4),
                PduType.ReleaseRequest => (Decode(span, PduType.ReleaseRequest), UpperLayerEvent.Evt12),
                PduType.ReleaseResponse => (Decode(span, PduType.ReleaseResponse), UpperLayerEvent.Evt13),
                _ => (PduDecoder.DecodeAbort(span), UpperLayerEvent.Evt16),
            };
        }
        catch (PduFormatException ex)
        {
            return await OnProtocolErrorAsync(ex.Reason, $"{type}: {ex.Message}").ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportError(ex))
        {
            OnTransportClosed();
            return PduOutcome.Ended;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
        return await OnControlPduAsync(type, evt, pdu).ConfigureAwait(false);
    }

    private static PduType Decode(ReadOnlySpan<byte> body, PduType type)
    {
        PduDecoder.DecodeRelease(body, type);
        return type;
    }

    private async Task<PduOutcome> OnControlPduAsync(PduType type, UpperLayerEvent evt, object pdu)
    {
        var action = Fire(evt);
        switch (action)
        {
            case UpperLayerAction.AE6:
                StopArtim();
                _receivedPdu = pdu;
                return PduOutcome.AssociateRequest;
            case UpperLayerAction.AE3:
                _receivedPdu = pdu;
                return PduOutcome.AssociateAccept;
            case UpperLayerAction.AE4:
                _receivedPdu = pdu;
                CloseTransport(AssociationEndReason.Rejected);
                return PduOutcome.AssociateReject;

            case UpperLayerAction.AR2:
                // A-RELEASE indication. In the middle of a message the DIMSE user cannot agree: abort (Evt15 in Sta8).
                if (_messageInProgress)
                    throw await DimseViolationAsync("A-RELEASE-RQ in the middle of a message").ConfigureAwait(false);
                // The requestor sends no P-DATA after its A-RELEASE-RQ (PS3.8 Sta7 has no Evt9): requests we sent it
                // will never be answered, so their callers learn it now rather than holding the release up.
                // A full fence between the flag and the scan of pending requests (SendRequestAsync registers, then checks).
                Interlocked.Exchange(ref _peerRequestedRelease, 1);
                FailPending(new DicomAssociationException("the peer requested release before responding"));
                // Operations still running may send their last responses (AR-7) before we answer (PS3.8 Sta8).
                await WaitForOperationsAsync().ConfigureAwait(false);
                if (Fire(UpperLayerEvent.Evt14) == UpperLayerAction.AR4) await SendReleaseResponseAsync().ConfigureAwait(false);
                return PduOutcome.Continue;
            case UpperLayerAction.AR3:
                // Release confirmation (also the end of a requestor-side collision, Sta11).
                SetEndReason(AssociationEndReason.Released);
                _released.TrySetResult();
                CloseTransport(AssociationEndReason.Released);
                return PduOutcome.Ended;
            case UpperLayerAction.AR8:
                // Release collision (PS3.8 §9.2): the requestor answers first (AR-9, Sta11) and then waits for the
                // acceptor's A-RELEASE-RP; the acceptor waits for the requestor's A-RELEASE-RP (Sta10).
                if (IsRequestor && Fire(UpperLayerEvent.Evt14) == UpperLayerAction.AR9)
                    await SendControlPduAsync(PduEncoder.EncodeReleaseResponse()).ConfigureAwait(false);
                return PduOutcome.Continue;
            case UpperLayerAction.AR10:
                // Acceptor side of a collision: confirmation received (Sta12), now answer (AR-4).
                _released.TrySetResult();
                if (Fire(UpperLayerEvent.Evt14) == UpperLayerAction.AR4) await SendReleaseResponseAsync().ConfigureAwait(false);
                return PduOutcome.Continue;

            case UpperLayerAction.AA2:
                // A-ABORT in Sta2 or Sta13: close.
                _abort ??= (AbortPdu)pdu;
                CloseTransport(_endReason == AssociationEndReason.None ? AssociationEndReason.AbortedByPeer : _endReason);
                return PduOutcome.Ended;
            case UpperLayerAction.AA3:
                _abort = (AbortPdu)pdu;
                Log.PeerAborted(_logger, Name, _abort);
                SetEndReason(AssociationEndReason.AbortedByPeer);
                CloseTransport(AssociationEndReason.AbortedByPeer);
                return PduOutcome.Ended;
            case UpperLayerAction.AA6:
                return PduOutcome.Continue;
            default:
                return await UnexpectedPduAsync(action, type).ConfigureAwait(false);
        }
    }

    private async Task SendReleaseResponseAsync()
    {
        SetEndReason(AssociationEndReason.Released);
        await SendControlPduAsync(PduEncoder.EncodeReleaseResponse()).ConfigureAwait(false);
        // AR-4: the requestor closes once it has our A-RELEASE-RP; the ARTIM timer covers a requestor that does not.
        AwaitTransportClose();
    }

    /// <summary>A well-formed PDU the current state does not allow: AA-1 (Sta2), AA-8 (associated) or AA-7
    /// (Sta13) — an A-ABORT with reason "unexpected PDU".</summary>
    private async Task<PduOutcome> UnexpectedPduAsync(UpperLayerAction action, PduType type)
    {
        switch (action)
        {
            case UpperLayerAction.AA1 or UpperLayerAction.AA7 or UpperLayerAction.AA8:
                Log.ProtocolError(_logger, Name, AbortReason.UnexpectedPdu, $"{type} PDU in state {State}");
                var abort = new AbortPdu(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
                _abort ??= abort;
                SetEndReason(AssociationEndReason.AbortedLocally);
                await SendControlPduAsync(PduEncoder.Encode(abort)).ConfigureAwait(false);
                AwaitTransportClose();
                _draining = true;
                FailPending(new DicomAssociationAbortedException(abort, $"unexpected {type} PDU"));
                return PduOutcome.Continue;
            default:
                // No cell (cannot happen for received PDUs once associated): treat as a protocol error.
                return await OnProtocolErrorAsync(AbortReason.UnexpectedPdu, $"{type} PDU with no transition in state {State}").ConfigureAwait(false);
        }
    }

    /// <summary>Reads the 6-byte PDU header (PS3.8 §9.3.1). Returns null at a clean end of stream. The first byte is
    /// judged as soon as it arrives.</summary>
    private async ValueTask<(PduType, uint)?> ReadPduHeaderAsync()
    {
        while (true)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (!buffer.IsEmpty)
            {
                byte type = buffer.FirstSpan[0];
                if (type is < 1 or > 7)
                {
                    _input.AdvanceTo(buffer.Start);
                    throw new PduFormatException(AbortReason.UnrecognizedPdu, $"unrecognized PDU type {type:X2}H");
                }
            }
            if (buffer.Length >= 6)
            {
                var header = ParseHeader(buffer);
                _input.AdvanceTo(buffer.GetPosition(6));
                Touch();
                return header;
            }
            if (result.IsCompleted)
            {
                _input.AdvanceTo(buffer.End);
                // Truncated inside a header: the transport closed mid-PDU (an A-P-ABORT, PS3.8 §9.2 Evt17).
                return null;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static (PduType, uint) ParseHeader(ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[6];
        buffer.Slice(0, 6).CopyTo(header);
        return ((PduType)header[0], BinaryPrimitives.ReadUInt32BigEndian(header[2..]));
    }

    /// <summary>Copies exactly <paramref name="destination"/>.Length bytes; false if the stream ends first.</summary>
    private async ValueTask<bool> ReadExactlyAsync(Memory<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            int n = (int)Math.Min(buffer.Length, destination.Length);
            buffer.Slice(0, n).CopyTo(destination.Span);
            destination = destination[n..];
            _input.AdvanceTo(buffer.GetPosition(n));
            if (n > 0) Touch();
            if (!destination.IsEmpty && result.IsCompleted && buffer.Length == n) return false;
        }
        return true;
    }

    /// <summary>Discards <paramref name="count"/> bytes; false if the connection ends or fails first.</summary>
    private async ValueTask<bool> SkipAsync(long count)
    {
        try
        {
            while (count > 0)
            {
                var result = await _input.ReadAsync().ConfigureAwait(false);
                long n = Math.Min(result.Buffer.Length, count);
                _input.AdvanceTo(result.Buffer.GetPosition(n));
                count -= n;
                if (count > 0 && result.IsCompleted) return false;
            }
            return true;
        }
        catch (Exception ex) when (IsTransportError(ex))
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- PDV level

    /// <summary>Moves to the next PDV item, reading P-DATA-TF PDUs (and handling association PDUs between them) as
    /// needed. False when the association has ended between messages; throws when it ends inside one.</summary>
    private async ValueTask<bool> NextPdvAsync()
    {
        while (_pduRemaining == 0)
        {
            var outcome = await ReadPduAsync().ConfigureAwait(false);
            if (outcome == PduOutcome.PData) break;
            if (_messageInProgress && (outcome != PduOutcome.Continue || State is not (UpperLayerState.Sta6 or UpperLayerState.Sta7)))
                throw Ended();
            // Between messages: keep reading after a handled association PDU; stop once the machine is idle. (The
            // AE-3/AE-4/AE-6 outcomes belong to negotiation and cannot occur here: Table 9-10 aborts them in Sta6+.)
            if (outcome != PduOutcome.Continue || _draining) return false;
        }
        // PDV item (PS3.8 §9.3.5.1): item length 4, presentation context ID 1, message control header 1, data.
        if (_pduRemaining < 6)
            throw await PdvErrorAsync($"{_pduRemaining} bytes left in the P-DATA-TF cannot hold a PDV item header").ConfigureAwait(false);
        byte[] header = ArrayPool<byte>.Shared.Rent(6);
        try
        {
            if (!await ReadExactlyAsync(header.AsMemory(0, 6)).ConfigureAwait(false))
            {
                OnTransportClosed();
                if (_messageInProgress) throw Ended();
                return false;
            }
            uint itemLength = BinaryPrimitives.ReadUInt32BigEndian(header);
            _pduRemaining -= 6;
            if (itemLength < 2 || itemLength - 2 > _pduRemaining)
                throw await PdvErrorAsync($"PDV item length {itemLength} does not fit the {_pduRemaining + 4} bytes left in its P-DATA-TF").ConfigureAwait(false);
            _pdvContextId = header[4];
            _pdvControl = header[5];
            _pdvRemaining = itemLength - 2;
            _pduRemaining -= _pdvRemaining;
        }
        catch (Exception ex) when (IsTransportError(ex) && ex is not DicomAssociationException)
        {
            OnTransportClosed();
            throw Ended();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
        if (!_contexts.TryGetValue(_pdvContextId, out var pc) || !pc.IsAccepted)
            throw await PdvErrorAsync($"PDV for presentation context {_pdvContextId}, which was not accepted").ConfigureAwait(false);
        return true;
    }

    private async Task<DicomAssociationAbortedException> PdvErrorAsync(string message)
    {
        await OnProtocolErrorAsync(AbortReason.InvalidPduParameterValue, message).ConfigureAwait(false);
        return new DicomAssociationAbortedException(_abort, message);
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length bytes of the current PDV.</summary>
    private async ValueTask<int> ReadPdvBytesAsync(Memory<byte> destination)
    {
        int want = (int)Math.Min(destination.Length, _pdvRemaining);
        if (want == 0) return 0;
        ReadResult result;
        try
        {
            result = await _input.ReadAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportError(ex))
        {
            OnTransportClosed();
            throw Ended();
        }
        var buffer = result.Buffer;
        int n = (int)Math.Min(buffer.Length, want);
        buffer.Slice(0, n).CopyTo(destination.Span);
        _input.AdvanceTo(buffer.GetPosition(n));
        if (n == 0 && result.IsCompleted)
        {
            OnTransportClosed();
            throw Ended();
        }
        _pdvRemaining -= (uint)n;
        Touch();
        return n;
    }

    /// <summary>Writes the rest of the current PDV to <paramref name="destination"/> straight from the pipe's
    /// buffers (one copy from the socket into the pipe, none more).</summary>
    private async ValueTask CopyPdvBytesAsync(Stream destination, CancellationToken cancellationToken)
    {
        while (_pdvRemaining > 0)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransportError(ex) && !cancellationToken.IsCancellationRequested)
            {
                OnTransportClosed();
                throw Ended();
            }
            var buffer = result.Buffer;
            long n = Math.Min(buffer.Length, _pdvRemaining);
            if (n == 0 && result.IsCompleted)
            {
                _input.AdvanceTo(buffer.End);
                OnTransportClosed();
                throw Ended();
            }
            var slice = buffer.Slice(0, n);
            try
            {
                foreach (var segment in slice) await destination.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _input.AdvanceTo(slice.End);
            }
            _pdvRemaining -= (uint)n;
            Touch();
        }
    }

    // ---------------------------------------------------------------- message level

    /// <summary>Assembles one message whose first PDV has just been read: the command fragments, then the data set
    /// (streamed to a request handler, or buffered for a response).</summary>
    private async Task ReceiveMessageAsync()
    {
        if (!PdvIsCommand) throw await DimseViolationAsync("a data set fragment arrived without a command (PS3.7 §6.3.1)").ConfigureAwait(false);
        _messageInProgress = true;
        byte contextId = _pdvContextId;
        var pc = _contexts[contextId];

        DimseCommand command;
        byte[] commandBuffer = ArrayPool<byte>.Shared.Rent(Math.Max(256, (int)Math.Min(_pdvRemaining, (uint)_options.MaximumCommandLength)));
        int commandLength = 0;
        try
        {
            while (true)
            {
                if (commandLength + (long)_pdvRemaining > _options.MaximumCommandLength)
                    throw await DimseViolationAsync($"command set longer than {_options.MaximumCommandLength} bytes").ConfigureAwait(false);
                int needed = commandLength + (int)_pdvRemaining;
                if (needed > commandBuffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(needed);
                    commandBuffer.AsSpan(0, commandLength).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(commandBuffer);
                    commandBuffer = larger;
                }
                while (_pdvRemaining > 0)
                    commandLength += await ReadPdvBytesAsync(commandBuffer.AsMemory(commandLength, (int)_pdvRemaining)).ConfigureAwait(false);
                if (PdvIsLast) break;
                if (!await NextPdvAsync().ConfigureAwait(false)) throw Ended();
                if (!PdvIsCommand || _pdvContextId != contextId)
                    throw await DimseViolationAsync("command fragments interrupted by another fragment (PS3.8 §E.2)").ConfigureAwait(false);
            }
            try
            {
                command = CommandSetCodec.Decode(commandBuffer.AsSpan(0, commandLength));
            }
            catch (DicomReadException ex)
            {
                throw await DimseViolationAsync($"undecodable command set: {ex.Message}").ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(commandBuffer);
        }

        if (command.CommandField == DimseCommandField.CCancelRequest)
        {
            _messageInProgress = false;
            if (_cancellations.TryGetValue(command.MessageIdBeingRespondedTo, out var cts)) await cts.CancelAsync().ConfigureAwait(false);
            return;
        }

        if (!command.HasDataSet)
        {
            _messageInProgress = false;
            await DeliverAsync(pc, command, null).ConfigureAwait(false);
            return;
        }

        if (!await NextPdvAsync().ConfigureAwait(false)) throw Ended();
        if (PdvIsCommand || _pdvContextId != contextId)
            throw await DimseViolationAsync("expected the data set of the message (PS3.7 §6.3.1)").ConfigureAwait(false);
        _dataSetEnded = false;
        var dataSet = new DimseDataStream(this);
        try
        {
            try
            {
                await DeliverAsync(pc, command, dataSet).ConfigureAwait(false);
            }
            catch (DicomAssociationException) when (Volatile.Read(ref _transportClosed) == 0 && !_draining)
            {
                // The connection is fine but the response could not go out: we had asked to release (Sta7 allows a
                // P-DATA indication, not a request). The message is still read to its end, below.
            }
            // Whatever the handler left unread is read and dropped, so the next message starts in step.
            await dataSet.CopyToAsync(Stream.Null).ConfigureAwait(false);
        }
        finally
        {
            dataSet.Detach();
        }
        _messageInProgress = false;
    }

    private async Task DeliverAsync(PresentationContext pc, DimseCommand command, DimseDataStream? dataSet)
    {
        if (!command.IsRequest)
        {
            byte[]? bytes = dataSet is null ? null : await BufferDataSetAsync(dataSet).ConfigureAwait(false);
            if (_pending.TryGetValue(command.MessageIdBeingRespondedTo, out var pending))
            {
                try
                {
                    await pending.Responses.Writer.WriteAsync(new DimseResponse(command, bytes, pc), _lifetime.Token).ConfigureAwait(false);
                }
                catch (System.Threading.Channels.ChannelClosedException)
                {
                    // The caller stopped listening (cancelled); the response is dropped.
                }
            }
            else
            {
                Log.UnknownResponse(_logger, Name, command.MessageIdBeingRespondedTo);
            }
            return;
        }
        var served = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _requestInProgress, served.Task);
        try
        {
            await _processor.ProcessAsync(new DimseRequestContext(this, pc, command, dataSet), _lifetime.Token).ConfigureAwait(false);
        }
        catch (DicomAssociationException)
        {
            throw;
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            throw Ended();
        }
        catch (Exception ex)
        {
            // The processor answers every request itself; one that throws is a bug, not the peer's fault.
            Log.HandlerFailed(_logger, Name, command.ToString(), ex);
        }
        finally
        {
            served.TrySetResult();
        }
    }

    private async Task<byte[]> BufferDataSetAsync(DimseDataStream dataSet)
    {
        var buffer = new ArrayBufferWriterStream(_options.MaximumBufferedDataSetLength);
        try
        {
            await dataSet.CopyToAsync(buffer).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw await DimseViolationAsync(ex.Message).ConfigureAwait(false);
        }
        return buffer.ToArray();
    }

    /// <summary>Next chunk of the data set being received; 0 at its end (the PDV marked last, PS3.8 §E.2).</summary>
    internal async ValueTask<int> ReadDataSetAsync(Memory<byte> destination)
    {
        while (true)
        {
            if (_dataSetEnded || destination.IsEmpty) return 0;
            if (_pdvRemaining > 0) return await ReadPdvBytesAsync(destination).ConfigureAwait(false);
            if (await AdvanceDataSetPdvAsync().ConfigureAwait(false)) continue;
            return 0;
        }
    }

    internal async ValueTask CopyDataSetAsync(Stream destination, CancellationToken cancellationToken)
    {
        while (!_dataSetEnded)
        {
            await CopyPdvBytesAsync(destination, cancellationToken).ConfigureAwait(false);
            await AdvanceDataSetPdvAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The current data PDV is exhausted: ends the data set if it was the last fragment, else moves to the
    /// next PDV, which must be a data fragment of the same presentation context.</summary>
    private async ValueTask<bool> AdvanceDataSetPdvAsync()
    {
        if (PdvIsLast)
        {
            _dataSetEnded = true;
            return false;
        }
        byte contextId = _pdvContextId;
        if (!await NextPdvAsync().ConfigureAwait(false)) throw Ended();
        if (PdvIsCommand || _pdvContextId != contextId)
            throw await DimseViolationAsync("data set fragments interrupted by a command fragment or another context (PS3.8 §E.2)").ConfigureAwait(false);
        return true;
    }
}

/// <summary>A growable write-only stream with a hard size limit, for data sets that must be buffered.</summary>
internal sealed class ArrayBufferWriterStream(int limit) : Stream
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _buffer.WrittenCount;
    public override long Position { get => _buffer.WrittenCount; set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_buffer.WrittenCount + (long)buffer.Length > limit)
            throw new InvalidDataException($"data set longer than the {limit} bytes allowed to be buffered");
        _buffer.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>Decides how to answer an A-ASSOCIATE-RQ: the "local user" of the acceptor (PS3.8 §7.1, Evt7/Evt8).</summary>
public interface IAssociationNegotiator
{
    ValueTask<AssociationDecision> NegotiateAsync(AssociationRequestContext context, CancellationToken cancellationToken);
}

/// <summary>What a negotiator sees of an incoming association request.</summary>
public sealed record AssociationRequestContext(AssociateRequest Request, System.Net.EndPoint? RemoteEndPoint, DicomAssociationOptions Options);

/// <summary>Accept (with the A-ASSOCIATE-AC to send) or reject (with the A-ASSOCIATE-RJ).</summary>
public sealed class AssociationDecision
{
    private AssociationDecision(AssociateAccept? accept, AssociateReject? reject)
    {
        AcceptPdu = accept;
        RejectPdu = reject;
    }

    public AssociateAccept? AcceptPdu { get; }
    public AssociateReject? RejectPdu { get; }

    public static AssociationDecision Accept(AssociateAccept accept) => new(accept, null);
    public static AssociationDecision Reject(AssociateReject reject) => new(null, reject);
}

/// <summary>Receives the requests of an association (C-ECHO, C-STORE…) on its receive loop.</summary>
internal interface IDimseRequestProcessor
{
    /// <summary>Handles one request and sends its response(s). <see cref="DimseRequestContext.DataSet"/> is a live
    /// stream over the incoming fragments: read it here, or leave it (the association drops what is left). Long
    /// operations that must stay cancellable (C-FIND, C-MOVE, C-GET) go to <see cref="DicomAssociation.StartOperation"/>.</summary>
    ValueTask ProcessAsync(DimseRequestContext request, CancellationToken cancellationToken);
}

/// <summary>One request received on an association.</summary>
public sealed class DimseRequestContext
{
    internal DimseRequestContext(DicomAssociation association, PresentationContext presentationContext, DimseCommand command, Stream? dataSet)
    {
        Association = association;
        PresentationContext = presentationContext;
        Command = command;
        DataSet = dataSet;
    }

    public DicomAssociation Association { get; }
    public PresentationContext PresentationContext { get; }
    public DimseCommand Command { get; }

    /// <summary>The data set bytes in <see cref="PresentationContext"/>'s transfer syntax, streamed from the
    /// connection; null when the request has none.</summary>
    public Stream? DataSet { get; }

    public Task SendResponseAsync(DimseStatus status, string? errorComment = null, CancellationToken cancellationToken = default)
    {
        var response = DimseCommand.CreateResponse(Command, status);
        if (errorComment is not null && !status.IsSuccess) response.ErrorComment = errorComment;
        return Association.SendResponseAsync(PresentationContext.Id, response, null, cancellationToken);
    }
}

/// <summary>Answers C-ECHO and refuses everything else with "unrecognized operation" (PS3.7 §C.5.x, 0211H).</summary>
internal sealed class DefaultRequestProcessor : IDimseRequestProcessor
{
    public static DefaultRequestProcessor Instance { get; } = new();

    public async ValueTask ProcessAsync(DimseRequestContext request, CancellationToken cancellationToken)
    {
        var status = request.Command.CommandField == DimseCommandField.CEchoRequest ? DimseStatus.Success : DimseStatus.UnrecognizedOperation;
        await request.SendResponseAsync(status, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}

public sealed partial class DicomAssociation
{
    /// <summary>Requestor side: sends <paramref name="request"/> on an open connection (Evt1, Evt2: AE-1, AE-2) and
    /// waits for the answer (Sta5). Returns the established association, with its receive loop running.</summary>
    internal static async Task<DicomAssociation> RequestAsync(Socket? socket, Stream stream, AssociateRequest request,
        DicomAssociationOptions options, IDimseRequestProcessor? processor, ILogger? logger, CancellationToken cancellationToken)
    {
        var association = new DicomAssociation(socket, stream, isRequestor: true, options, processor, logger);
        try
        {
            await association.RequestCoreAsync(request, cancellationToken).ConfigureAwait(false);
            return association;
        }
        catch
        {
            await association.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task RequestCoreAsync(AssociateRequest request, CancellationToken cancellationToken)
    {
        request.UserInformation.MaximumLength = _options.MaximumPduLength;
        Request = request;
        Name = $"#{Id} {request.CallingAeTitle}->{request.CalledAeTitle} {RemoteEndPoint}";
        byte[] pdu = PduEncoder.Encode(request);
        // AE-1 is the transport connect the caller has already made; Evt2 confirms it and AE-2 sends the request.
        Fire(UpperLayerEvent.Evt1);
        Fire(UpperLayerEvent.Evt2);
        StartWatchdog();
        await SendControlPduAsync(pdu).ConfigureAwait(false);

        // Sta5 has no ARTIM in Table 9-10; we bound the wait with the same time (as DCMTK's ACSE timeout does).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ArtimTimeout);
        PduOutcome outcome;
        await using (timeout.Token.Register(static s => ((DicomAssociation)s!).CloseTransport(AssociationEndReason.ArtimExpired), this).ConfigureAwait(false))
        {
            outcome = await ReadPduAsync().ConfigureAwait(false);
        }
        switch (outcome)
        {
            case PduOutcome.AssociateAccept:
                var accept = (AssociateAccept)_receivedPdu!;
                if (ValidateAccept(request, accept) is { } problem)
                {
                    Log.DimseError(_logger, Name, problem);
                    await AbortAsync().ConfigureAwait(false);
                    throw new DicomAssociationAbortedException(_abort, $"invalid A-ASSOCIATE-AC: {problem}");
                }
                ApplyNegotiation(request, accept);
                Log.Established(_logger, Name, _contexts.Values.Count(c => c.IsAccepted), request.PresentationContexts.Count);
                _ = Task.Run(ReceiveLoopAsync, CancellationToken.None);
                return;
            case PduOutcome.AssociateReject:
                var reject = (AssociateReject)_receivedPdu!;
                Log.Rejected(_logger, Name, reject);
                throw new DicomAssociationRejectedException(reject);
            default:
                cancellationToken.ThrowIfCancellationRequested();
                throw _endReason == AssociationEndReason.ArtimExpired
                    ? new TimeoutException($"no answer to the A-ASSOCIATE-RQ within {_options.ArtimTimeout}")
                    : new DicomAssociationAbortedException(_abort, $"association request failed: {_endReason} {_abort}");
        }
    }

    /// <summary>PS3.8 §9.3.3.2: each answer names a context we proposed, and an accepted one one of the transfer
    /// syntaxes we proposed for it.</summary>
    private static string? ValidateAccept(AssociateRequest request, AssociateAccept accept)
    {
        foreach (var item in accept.PresentationContexts)
        {
            var proposed = request.PresentationContexts.Find(p => p.Id == item.Id);
            if (proposed is null) return $"presentation context {item.Id} was not proposed";
            if (item.Result == PresentationContextResult.Acceptance && !proposed.TransferSyntaxes.Contains(item.TransferSyntax))
                return $"presentation context {item.Id} accepted with {item.TransferSyntax}, which was not proposed";
        }
        return null;
    }

    /// <summary>Acceptor side: runs the whole association on an accepted connection: waits (ARTIM) for the
    /// A-ASSOCIATE-RQ, asks <paramref name="negotiator"/>, answers, then serves until the association ends.</summary>
    internal static async Task RunAcceptorAsync(Socket? socket, Stream stream, DicomAssociationOptions options, IAssociationNegotiator negotiator,
        IDimseRequestProcessor? processor, ILogger? logger, Action<DicomAssociation>? onEstablished, CancellationToken cancellationToken,
        Action<DicomAssociation>? onEnded = null)
    {
        var association = new DicomAssociation(socket, stream, isRequestor: false, options, processor, logger) { _ended = onEnded };
        await using (association.ConfigureAwait(false))
        {
            await association.AcceptCoreAsync(negotiator, onEstablished, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AcceptCoreAsync(IAssociationNegotiator negotiator, Action<DicomAssociation>? onEstablished, CancellationToken cancellationToken)
    {
        // Evt5 → AE-5: the connection is open; start ARTIM and wait for the A-ASSOCIATE-RQ (Sta2).
        Fire(UpperLayerEvent.Evt5);
        StartArtim();
        StartWatchdog();
        using var stop = cancellationToken.Register(static s => _ = ((DicomAssociation)s!).AbortAndCloseAsync(), this);

        var outcome = await ReadPduAsync().ConfigureAwait(false);
        if (outcome != PduOutcome.AssociateRequest)
        {
            await ReceiveLoopAsync().ConfigureAwait(false);
            return;
        }
        var request = (AssociateRequest)_receivedPdu!;
        _receivedPdu = null;
        Request = request;
        Name = $"#{Id} {request.CallingAeTitle}->{request.CalledAeTitle} {RemoteEndPoint}";

        // AE-6: the provider's own check. Bit 0 of the protocol version is version 1 (PS3.8 §9.3.2); without it we
        // answer A-ASSOCIATE-RJ, permanent, source ACSE, "protocol version not supported" (Table 9-21) → Sta13.
        if ((request.ProtocolVersion & 1) == 0)
        {
            lock (_fsmLock) _fsm.RejectedByProvider();
            await RejectAsync(AssociateReject.ProtocolVersionNotSupported).ConfigureAwait(false);
            await ReceiveLoopAsync().ConfigureAwait(false);
            return;
        }

        AssociationDecision decision;
        try
        {
            decision = await negotiator.NegotiateAsync(new AssociationRequestContext(request, RemoteEndPoint, _options), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ConnectionFailed(_logger, Name, ex);
            decision = AssociationDecision.Reject(AssociateReject.NoReasonGiven(AssociateRejectResult.RejectedTransient));
        }

        if (decision.AcceptPdu is { } accept)
        {
            if (Fire(UpperLayerEvent.Evt7) != UpperLayerAction.AE7) return;
            accept.CalledAeTitle = request.CalledAeTitle;
            accept.CallingAeTitle = request.CallingAeTitle;
            accept.UserInformation.MaximumLength = _options.MaximumPduLength;
            ApplyNegotiation(request, accept);
            await SendControlPduAsync(PduEncoder.Encode(accept)).ConfigureAwait(false);
            Log.Established(_logger, Name, _contexts.Values.Count(c => c.IsAccepted), request.PresentationContexts.Count);
            onEstablished?.Invoke(this);
        }
        else
        {
            if (Fire(UpperLayerEvent.Evt8) != UpperLayerAction.AE8) return;
            await RejectAsync(decision.RejectPdu ?? AssociateReject.NoReasonGiven()).ConfigureAwait(false);
        }
        await ReceiveLoopAsync().ConfigureAwait(false);
    }

    /// <summary>AE-8 (or AE-6's rejection): send A-ASSOCIATE-RJ and start ARTIM; the requestor closes (Sta13).</summary>
    private async Task RejectAsync(AssociateReject reject)
    {
        Log.Rejected(_logger, Name, reject);
        SetEndReason(AssociationEndReason.Rejected);
        await SendControlPduAsync(PduEncoder.Encode(reject)).ConfigureAwait(false);
        AwaitTransportClose();
    }

    /// <summary>Builds the negotiated presentation contexts and the send PDU length from the request and its
    /// accept. Roles follow PS3.7 §D.3.3.4: a role is granted only if the requestor proposed it and the acceptor
    /// agreed; without role selection the requestor is SCU only.</summary>
    private void ApplyNegotiation(AssociateRequest request, AssociateAccept accept)
    {
        Accept = accept;
        _contexts.Clear();
        foreach (var proposed in request.PresentationContexts)
        {
            var answer = accept.PresentationContexts.Find(a => a.Id == proposed.Id);
            var result = answer?.Result ?? PresentationContextResult.NoReason;
            bool requestorIsScu = true, requestorIsScp = false;
            var proposedRole = request.UserInformation.RoleSelections.Find(r => r.SopClassUid == proposed.AbstractSyntax);
            if (proposedRole is not null)
            {
                var grantedRole = accept.UserInformation.RoleSelections.Find(r => r.SopClassUid == proposed.AbstractSyntax);
                requestorIsScu = proposedRole.ScuRole && (grantedRole?.ScuRole ?? true);
                requestorIsScp = proposedRole.ScpRole && (grantedRole?.ScpRole ?? false);
            }
            var ts = result == PresentationContextResult.Acceptance ? DicomTransferSyntax.Parse(answer!.TransferSyntax) : null;
            _contexts[proposed.Id] = new PresentationContext(proposed.Id, proposed.AbstractSyntax, proposed.TransferSyntaxes, result, ts, requestorIsScu, requestorIsScp);
        }
        // PS3.8 §D.1: the peer's maximum length bounds what we send; 0 means no limit, so our own cap applies.
        uint peerMaximum = IsRequestor ? accept.UserInformation.MaximumLength : request.UserInformation.MaximumLength;
        SendPduLength = peerMaximum == 0 ? _options.MaximumSendPduLength : Math.Min(peerMaximum, _options.MaximumSendPduLength);
        // A peer advertising less than a PDV header plus one byte cannot receive anything; PS3.8 sets no minimum, so
        // we send the smallest PDUs that can carry data rather than refuse.
        SendPduLength = Math.Max(SendPduLength, 8);
    }
}

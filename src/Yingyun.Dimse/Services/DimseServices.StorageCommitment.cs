using System.Collections.Concurrent;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

public sealed partial class DimseServices
{
    private readonly ConcurrentDictionary<string, byte> _activeTransactions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _reports = new();
    private CancellationTokenSource _reportsStopping = new();

    /// <summary>The SCP of the Storage Commitment Push Model: decides what is committed. Null: N-ACTION is refused.</summary>
    public IStorageCommitmentHandler? StorageCommitmentHandler { get; set; }

    /// <summary>Where the requestor of a commitment listens, for a report on a new association.</summary>
    public IStorageCommitmentRequestorResolver? StorageCommitmentRequestorResolver { get; set; }

    public StorageCommitmentReportDelivery StorageCommitmentReportDelivery { get; set; } = StorageCommitmentReportDelivery.SameAssociationIfOpen;

    /// <summary>Options of the associations opened to send an N-EVENT-REPORT.</summary>
    public DicomAssociationOptions ReportAssociationOptions { get; set; } = new();

    /// <summary>TLS settings for report destinations marked <see cref="DicomNode.Tls"/>.</summary>
    public DicomTlsOptions? ReportTls { get; set; }

    /// <summary>How long the SCP waits for the N-EVENT-REPORT-RSP.</summary>
    public TimeSpan ReportResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts at a new association for one report (the requestor may be briefly unreachable), and the
    /// pause between them.</summary>
    public int ReportAttempts { get; set; } = 3;

    public TimeSpan ReportRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The SCU side: receives the N-EVENT-REPORTs of the Storage Commitment Push Model, on the association of
    /// the N-ACTION or on one the SCP opens. Null: they are refused.</summary>
    public IStorageCommitmentReportHandler? StorageCommitmentReportHandler { get; set; }

    /// <summary>Storage commitment reports being prepared (the handler deciding) or sent (a new association being
    /// tried): they outlive the association of their request.</summary>
    public int ReportsInProgress => _reports.Count;

    /// <summary>Waits until the reports in progress are sent or given up. If <paramref name="cancellationToken"/> fires
    /// first they are cancelled — the handlers' tokens fire, no further attempt is made — and then awaited.
    /// <see cref="DicomServer"/> calls this when it stops; these services stay usable afterwards.</summary>
    public async Task StopReportsAsync(CancellationToken cancellationToken = default)
    {
        var stopping = Volatile.Read(ref _reportsStopping);
        await using (cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), stopping).ConfigureAwait(false))
        {
            await Task.WhenAll(_reports.Keys).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (stopping.IsCancellationRequested && Interlocked.CompareExchange(ref _reportsStopping, new CancellationTokenSource(), stopping) == stopping)
            stopping.Dispose();
    }

    /// <summary>N-ACTION-RQ, Request Storage Commitment (PS3.4 §J.3.2): checked and answered at once; the handler's
    /// decision then goes back in an N-EVENT-REPORT-RQ (§J.3.3), in the background.</summary>
    private async Task StorageCommitmentRequestAsync(DimseRequestContext request, CancellationToken cancellationToken)
    {
        var command = request.Command;
        var pc = request.PresentationContext;
        var association = request.Association;
        var (information, problem) = await ReadDataSetAsync(request, cancellationToken).ConfigureAwait(false);

        // PS3.7 §10.1.4.1.10: the N-ACTION statuses for a request we cannot take.
        DimseStatus status = DimseStatus.Success;
        StorageCommitmentRequest? commitment = null;
        if (pc.AbstractSyntax != DicomUids.StorageCommitmentPushModel || command.RequestedSopClassUid != DicomUids.StorageCommitmentPushModel)
            (status, problem) = (DimseStatus.NoSuchSopClass, "N-ACTION is supported for the Storage Commitment Push Model only");
        else if (command.RequestedSopInstanceUid != DicomUids.StorageCommitmentPushModelInstance)
            // PS3.4 §J.3.5: the N-ACTION names the well-known instance.
            (status, problem) = (DimseStatus.NoSuchSopInstance, "Requested SOP Instance UID is not the well-known Storage Commitment Push Model instance");
        else if (command.ActionTypeId != StorageCommitment.ActionTypeRequest)
            (status, problem) = (DimseStatus.NoSuchAction, $"Action Type ID {command.ActionTypeId} is not 1 (Request Storage Commitment)");
        else if (problem is not null || information is null)
            (status, problem) = (DimseStatus.InvalidArgumentValue, problem ?? "N-ACTION-RQ without Action Information");
        else
        {
            var (transactionUid, references, invalid) = StorageCommitment.ParseActionInformation(information);
            if (invalid is not null)
                (status, problem) = (DimseStatus.InvalidArgumentValue, invalid);
            else if (StorageCommitmentHandler is null)
                (status, problem) = (DimseStatus.SopClassNotSupported, "this AE does not commit to storage");
            else
                commitment = new StorageCommitmentRequest(transactionUid!, references!, association.CallingAeTitle, association.CalledAeTitle,
                    association.RemoteEndPoint, association.UserIdentity);
        }

        await request.SendResponseAsync(status, problem, cancellationToken).ConfigureAwait(false);
        if (commitment is null) return;
        Log.CommitmentRequested(Logger, association.Name, commitment.TransactionUid, commitment.References.Count);
        // Not awaited: the receive loop goes on, and the SCU may release before the report is ready.
        var report = ReportStorageCommitmentAsync(association, pc, commitment, Volatile.Read(ref _reportsStopping).Token);
        _reports[report] = 0;
        _ = report.ContinueWith(static (t, s) => ((ConcurrentDictionary<Task, byte>)s!).TryRemove(t, out _), _reports,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Asks the handler, then sends the N-EVENT-REPORT-RQ: on the same association when
    /// <see cref="StorageCommitmentReportDelivery"/> allows and it is still open, otherwise (or if that fails) on a
    /// new association to the requestor. After it is sent the Transaction UID is no longer active (§J.3.3.1.2).</summary>
    private async Task ReportStorageCommitmentAsync(DicomAssociation association, PresentationContext pc, StorageCommitmentRequest request,
        CancellationToken stopping)
    {
        // Off the receive loop from the first await on.
        await Task.Yield();
        bool owned = _activeTransactions.TryAdd(request.TransactionUid, 0);
        try
        {
            StorageCommitmentResult result;
            if (!owned)
            {
                // PS3.3 §C.14.1.1: 0131H, the Transaction UID is already in use by a request not yet reported.
                result = StorageCommitment.AllFailed(request, StorageCommitmentFailureReason.DuplicateTransactionUid);
            }
            else
            {
                try
                {
                    result = StorageCommitment.Complete(request, await StorageCommitmentHandler!.CommitAsync(request, stopping).ConfigureAwait(false));
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    Log.HandlerFailed(Logger, association.Name, $"storage commitment {request.TransactionUid}", ex);
                    result = StorageCommitment.AllFailed(request, StorageCommitmentFailureReason.ProcessingFailure);
                }
            }

            if (StorageCommitmentReportDelivery == StorageCommitmentReportDelivery.SameAssociationIfOpen
                && await TryReportOnAssociationAsync(association, pc, result).ConfigureAwait(false))
                return;
            await ReportOnNewAssociationAsync(association, request, result, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Log.ReportNotDelivered(Logger, association.Name, request.TransactionUid, "the server is stopping");
        }
        catch (Exception ex)
        {
            // A background task: nothing may escape it unobserved.
            Log.HandlerFailed(Logger, association.Name, $"storage commitment report {request.TransactionUid}", ex);
        }
        finally
        {
            if (owned) _activeTransactions.TryRemove(request.TransactionUid, out _);
        }
    }

    private static DimseCommand BuildEventReport(DicomAssociation association, StorageCommitmentResult result)
    {
        var report = DimseCommand.CreateRequest(DimseCommandField.NEventReportRequest, association.NextMessageId(), DicomUids.StorageCommitmentPushModel, hasDataSet: true);
        // PS3.7 §10.3.1: the Affected SOP Instance is the well-known instance of PS3.4 §J.3.5.
        report.AffectedSopInstanceUid = DicomUids.StorageCommitmentPushModelInstance;
        report.EventTypeId = result.EventTypeId;
        return report;
    }

    /// <summary>The report on the association of the N-ACTION, if it is established (Sta6: neither side has asked to
    /// release), we hold the SCP role on the context, and the SCU answers before <see cref="ReportResponseTimeout"/>.
    /// The attempt counts as an operation of the association, so a release from the SCU waits for it; a release
    /// request fails it at once (the SCU can send no response after it, PS3.8 Sta7).</summary>
    private async Task<bool> TryReportOnAssociationAsync(DicomAssociation association, PresentationContext pc, StorageCommitmentResult result)
    {
        if (association.State != UpperLayerState.Sta6 || association.Completion.IsCompleted || !association.IsScpFor(pc)) return false;
        try
        {
            var status = await association.RunOperationAsync(async lifetime =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
                timeout.CancelAfter(ReportResponseTimeout);
                var bytes = await QueryRetrieve.EncodeAsync(StorageCommitment.ToEventInformation(result), pc.TransferSyntax!, timeout.Token).ConfigureAwait(false);
                var response = await association.SendSingleRequestAsync(pc.Id, BuildEventReport(association, result), new ReadOnlyMemoryStream(bytes), timeout.Token).ConfigureAwait(false);
                return response.Command.Status;
            }).ConfigureAwait(false);
            if (status.IsSuccessOrWarning)
            {
                Log.ReportSent(Logger, association.Name, result.TransactionUid, result.EventTypeId, "the association of the request");
                return true;
            }
            Log.ReportRefused(Logger, association.Name, result.TransactionUid, status);
            return false;
        }
        catch (Exception ex) when (ex is DicomAssociationException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            Log.ReportAttemptFailed(Logger, association.Name, result.TransactionUid, ex.Message);
            return false;
        }
    }

    /// <summary>The report on a new association to the requestor, which we open proposing the SCP role of the Storage
    /// Commitment Push Model (PS3.4 §J.3.3.1.3 Note: the SCU accepts an association where the SCP role is proposed).</summary>
    private async Task ReportOnNewAssociationAsync(DicomAssociation origin, StorageCommitmentRequest request, StorageCommitmentResult result,
        CancellationToken stopping)
    {
        var node = StorageCommitmentRequestorResolver is null ? null
            : await StorageCommitmentRequestorResolver.ResolveAsync(request, stopping).ConfigureAwait(false);
        if (node is null)
        {
            Log.ReportNotDelivered(Logger, origin.Name, result.TransactionUid, $"no address known for the requestor '{request.CallingAeTitle}'");
            return;
        }
        string? lastProblem = null;
        for (int attempt = 1; attempt <= Math.Max(1, ReportAttempts); attempt++)
        {
            if (attempt > 1) await Task.Delay(ReportRetryDelay, stopping).ConfigureAwait(false);
            var builder = new AssociationRequestBuilder(request.CalledAeTitle, node.AeTitle);
            builder.AddPresentationContext(DicomUids.StorageCommitmentPushModel);
            builder.AddRoleSelection(DicomUids.StorageCommitmentPushModel, scuRole: false, scpRole: true);
            DicomAssociation? target = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                timeout.CancelAfter(ReportResponseTimeout);
                target = await DicomClient.ConnectAsync(new DicomClientOptions
                {
                    Host = node.Host,
                    Port = node.Port,
                    CallingAeTitle = request.CalledAeTitle,
                    CalledAeTitle = node.AeTitle,
                    Association = ReportAssociationOptions,
                    Tls = node.Tls ? ReportTls ?? new DicomTlsOptions() : null,
                    Logger = Logger,
                }, builder.Build(), timeout.Token).ConfigureAwait(false);
                var pc = ReportContext(target);
                if (pc is null)
                {
                    lastProblem = $"{node.AeTitle} accepted no Storage Commitment Push Model context in which we are the SCP";
                    await ReleaseQuietlyAsync(target).ConfigureAwait(false);
                    continue;
                }
                var bytes = await QueryRetrieve.EncodeAsync(StorageCommitment.ToEventInformation(result), pc.TransferSyntax!, timeout.Token).ConfigureAwait(false);
                var response = await target.SendSingleRequestAsync(pc.Id, BuildEventReport(target, result), new ReadOnlyMemoryStream(bytes), timeout.Token).ConfigureAwait(false);
                await ReleaseQuietlyAsync(target).ConfigureAwait(false);
                if (response.Command.Status.IsSuccessOrWarning)
                    Log.ReportSent(Logger, target.Name, result.TransactionUid, result.EventTypeId, "a new association");
                else
                    // The requestor answered: it has the report, even if it did not like it; sending again changes nothing.
                    Log.ReportRefused(Logger, target.Name, result.TransactionUid, response.Command.Status);
                return;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested && (ex is DicomAssociationException or System.Net.Sockets.SocketException
                or TimeoutException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException))
            {
                lastProblem = $"attempt {attempt} to {node.AeTitle} at {node.Host}:{node.Port}: {ex.Message}";
                Log.ReportAttemptFailed(Logger, origin.Name, result.TransactionUid, lastProblem);
            }
            finally
            {
                if (target is not null) await target.DisposeAsync().ConfigureAwait(false);
            }
        }
        Log.ReportNotDelivered(Logger, origin.Name, result.TransactionUid, lastProblem ?? "no attempt made");
    }

    /// <summary>The accepted Storage Commitment context of an association we requested on which we send the report:
    /// one where the SCP role was granted; failing that, one whose acceptor did not answer the role selection at all
    /// (older SCUs ignore the item, yet take the report, PS3.4 §J.3.3.1.3).</summary>
    private static PresentationContext? ReportContext(DicomAssociation target)
    {
        var contexts = target.PresentationContexts.Where(p => p.IsAccepted && p.AbstractSyntax == DicomUids.StorageCommitmentPushModel).OrderBy(p => p.Id).ToList();
        if (contexts.Find(target.IsScpFor) is { } granted) return granted;
        bool answered = target.Accept?.UserInformation.RoleSelections.Exists(r => r.SopClassUid == DicomUids.StorageCommitmentPushModel) ?? false;
        return answered ? null : contexts.FirstOrDefault();
    }

    private static async Task ReleaseQuietlyAsync(DicomAssociation association)
    {
        try
        {
            await association.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (DicomAssociationException)
        {
        }
    }

    /// <summary>N-EVENT-REPORT-RQ of the Storage Commitment Push Model, on the SCU side (PS3.4 §J.3.3.1.3): the
    /// result goes to <see cref="StorageCommitmentReportHandler"/>, whose status is the response.</summary>
    private async Task StorageCommitmentReportAsync(DimseRequestContext request, CancellationToken cancellationToken)
    {
        var command = request.Command;
        var pc = request.PresentationContext;
        var association = request.Association;
        var (information, problem) = await ReadDataSetAsync(request, cancellationToken).ConfigureAwait(false);

        // PS3.7 §10.1.1.1.8: the N-EVENT-REPORT statuses.
        DimseStatus status;
        ushort eventType = command.EventTypeId ?? 0;
        StorageCommitmentResult? result = null;
        if (pc.AbstractSyntax != DicomUids.StorageCommitmentPushModel || command.AffectedSopClassUid != DicomUids.StorageCommitmentPushModel)
            (status, problem) = (DimseStatus.NoSuchSopClass, "N-EVENT-REPORT is supported for the Storage Commitment Push Model only");
        else if (command.AffectedSopInstanceUid != DicomUids.StorageCommitmentPushModelInstance)
            (status, problem) = (DimseStatus.NoSuchSopInstance, "Affected SOP Instance UID is not the well-known Storage Commitment Push Model instance");
        else if (eventType is not (StorageCommitment.EventTypeSuccessful or StorageCommitment.EventTypeFailuresExist))
            (status, problem) = (DimseStatus.NoSuchEventType, $"Event Type ID {eventType} is neither 1 nor 2");
        else if (problem is not null || information is null)
            (status, problem) = (DimseStatus.InvalidArgumentValue, problem ?? "N-EVENT-REPORT-RQ without Event Information");
        else
        {
            (result, var invalid) = StorageCommitment.ParseEventInformation(information, eventType);
            (status, problem) = invalid is not null ? (DimseStatus.InvalidArgumentValue, invalid)
                : StorageCommitmentReportHandler is null ? (DimseStatus.SopClassNotSupported, "this AE does not take storage commitment reports")
                : (DimseStatus.Success, null);
        }

        if (result is not null && StorageCommitmentReportHandler is not null)
        {
            var report = new StorageCommitmentReport(result, association.Id, association.CallingAeTitle, association.CalledAeTitle, association.RemoteEndPoint);
            try
            {
                status = await StorageCommitmentReportHandler.ReportAsync(report, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.HandlerFailed(Logger, association.Name, command.ToString(), ex);
                (status, problem) = (DimseStatus.ProcessingFailure, ex.Message);
            }
            Log.ReportReceived(Logger, association.Name, result.TransactionUid, eventType, status);
        }
        await request.SendResponseAsync(status, problem, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Buffers and decodes the data set of an N-ACTION or N-EVENT-REPORT (a few items per instance,
    /// bounded by <see cref="DicomAssociationOptions.MaximumBufferedDataSetLength"/>); a reason when it does not parse.</summary>
    private static async Task<(DicomDataset? DataSet, string? Problem)> ReadDataSetAsync(DimseRequestContext request, CancellationToken cancellationToken)
    {
        if (request.DataSet is null) return (null, null);
        var buffer = new ArrayBufferWriterStream(request.Association.Options.MaximumBufferedDataSetLength);
        try
        {
            await request.DataSet.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            // Read the rest so that the response follows the whole request (PS3.7 §9.3.1.1).
            await request.DataSet.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            return (null, ex.Message);
        }
        try
        {
            return (await QueryRetrieve.DecodeAsync(buffer.ToArray(), request.PresentationContext.TransferSyntax!, cancellationToken).ConfigureAwait(false), null);
        }
        catch (DicomReadException ex)
        {
            return (null, $"data set does not parse: {ex.Message}");
        }
    }
}

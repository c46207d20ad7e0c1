using Microsoft.Extensions.Logging;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

public sealed partial class DimseServices
{
    public IQueryHandler? QueryHandler { get; set; }

    public IMoveDestinationResolver? MoveDestinationResolver { get; set; }

    /// <summary>Options of the associations a C-MOVE opens to its destination.</summary>
    public DicomAssociationOptions MoveAssociationOptions { get; set; } = new();

    /// <summary>TLS settings (our client certificate, trusted roots) for move destinations marked <see cref="DicomNode.Tls"/>.</summary>
    public DicomTlsOptions? MoveTls { get; set; }

    /// <summary>C-FIND, C-MOVE, C-GET (PS3.4 Annex C): the identifier is read on the receive loop, the operation then
    /// runs in the background so that a C-CANCEL-RQ can reach it (PS3.7 §9.3.2.3, §9.3.3.3, §9.3.4.3).</summary>
    private async Task QueryRetrieveAsync(DimseRequestContext request, CancellationToken cancellationToken)
    {
        var command = request.Command;
        var pc = request.PresentationContext;
        var association = request.Association;
        string model = pc.AbstractSyntax;
        bool modelMatches = command.CommandField switch
        {
            DimseCommandField.CFindRequest => QueryRetrieve.IsFind(model),
            DimseCommandField.CMoveRequest => QueryRetrieve.IsMove(model),
            _ => QueryRetrieve.IsGet(model),
        };

        DicomDataset? identifier = null;
        string? problem = null;
        if (request.DataSet is null) problem = "request without an identifier";
        else
        {
            var buffer = new ArrayBufferWriterStream(association.Options.MaximumBufferedDataSetLength);
            await request.DataSet.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            try
            {
                identifier = await QueryRetrieve.DecodeAsync(buffer.ToArray(), pc.TransferSyntax!, cancellationToken).ConfigureAwait(false);
            }
            catch (DicomReadException ex)
            {
                problem = $"identifier does not parse: {ex.Message}";
            }
        }
        string level = identifier?.GetSingleValueOrDefault(QueryRetrieve.QueryRetrieveLevel, "") ?? "";
        if (problem is null && (!modelMatches || command.AffectedSopClassUid != model)) problem = "Affected SOP Class UID does not match the presentation context";
        if (problem is null && !QueryRetrieve.IsValidLevel(model, level)) problem = $"Query/Retrieve Level '{level}' is not valid for this information model";
        if (problem is not null)
        {
            // PS3.4 §C.4.1.1.4, §C.4.2.1.5, §C.4.3.1.4: A900, "identifier does not match SOP class".
            await request.SendResponseAsync(DimseStatus.DataSetDoesNotMatchSopClass, problem, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (QueryHandler is null)
        {
            await request.SendResponseAsync(DimseStatus.SopClassNotSupported, "this AE does not answer queries", cancellationToken).ConfigureAwait(false);
            return;
        }

        var query = new QueryRequest(model, identifier!, level, command.Priority, association.CallingAeTitle, association.CalledAeTitle,
            association.RemoteEndPoint, association.UserIdentity);
        Func<CancellationToken, Task> operation = command.CommandField switch
        {
            DimseCommandField.CFindRequest => ct => FindAsync(request, query, ct),
            DimseCommandField.CMoveRequest => ct => RetrieveAsync(request, query, isMove: true, ct),
            _ => ct => RetrieveAsync(request, query, isMove: false, ct),
        };
        association.StartOperation(command.MessageId, operation);
    }

    private async Task FindAsync(DimseRequestContext request, QueryRequest query, CancellationToken cancellationToken)
    {
        var association = request.Association;
        var pc = request.PresentationContext;
        DimseStatus final = DimseStatus.Success;
        string? comment = null;
        try
        {
            await foreach (var match in QueryHandler!.FindAsync(query, cancellationToken).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();
                match.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, query.Level);
                var bytes = await QueryRetrieve.EncodeAsync(match, pc.TransferSyntax!, cancellationToken).ConfigureAwait(false);
                var pending = DimseCommand.CreateResponse(request.Command, DimseStatus.Pending);
                await association.SendResponseAsync(pc.Id, pending, bytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!association.Aborted.IsCancellationRequested)
        {
            // C-CANCEL-RQ: the final response says "matching terminated due to cancel" (PS3.4 §C.4.1.1.4).
            final = DimseStatus.Cancel;
        }
        catch (Exception ex) when (ex is not DicomAssociationException && !association.Aborted.IsCancellationRequested)
        {
            Log.HandlerFailed(Logger, association.Name, request.Command.ToString(), ex);
            final = DimseStatus.CannotUnderstand;
            comment = ex.Message;
        }
        var response = DimseCommand.CreateResponse(request.Command, final);
        if (comment is not null) response.ErrorComment = comment;
        await association.SendResponseAsync(pc.Id, response, null, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>C-MOVE (sub-operations on a new association to the destination) and C-GET (sub-operations on this
    /// association, to the requestor in the SCP role), with a pending response after each sub-operation.</summary>
    private async Task RetrieveAsync(DimseRequestContext request, QueryRequest query, bool isMove, CancellationToken cancellationToken)
    {
        var association = request.Association;
        var command = request.Command;
        var pc = request.PresentationContext;
        int completed = 0, failed = 0, warning = 0, remaining = 0;
        var failedUids = new List<string>();
        DicomAssociation? target = null;
        DimseStatus? final = null;
        string? comment = null;

        async Task RespondAsync(DimseStatus status, bool withRemaining)
        {
            var response = DimseCommand.CreateResponse(command, status);
            if (withRemaining) response.NumberOfRemainingSuboperations = Clamp(remaining);
            response.NumberOfCompletedSuboperations = Clamp(completed);
            response.NumberOfFailedSuboperations = Clamp(failed);
            response.NumberOfWarningSuboperations = Clamp(warning);
            if (comment is not null && !status.IsSuccess && !status.IsPending) response.ErrorComment = comment;
            byte[]? identifier = null;
            // PS3.4 §C.4.2.1.4: the Failed SOP Instance UID List accompanies a final response with failures.
            if (!status.IsPending && failedUids.Count > 0)
            {
                var list = new DicomDataset();
                list.AddOrUpdate(QueryRetrieve.FailedSopInstanceUidList, DicomVR.UI, [.. failedUids]);
                identifier = await QueryRetrieve.EncodeAsync(list, pc.TransferSyntax!, CancellationToken.None).ConfigureAwait(false);
            }
            await association.SendResponseAsync(pc.Id, response, identifier, CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            DicomNode? destination = null;
            if (isMove)
            {
                string destinationAe = command.MoveDestination ?? "";
                destination = MoveDestinationResolver is null ? null
                    : await MoveDestinationResolver.ResolveAsync(destinationAe, query, cancellationToken).ConfigureAwait(false);
                if (destination is null)
                {
                    comment = $"move destination '{destinationAe}' unknown";
                    await RespondAsync(DimseStatus.MoveDestinationUnknown, withRemaining: false).ConfigureAwait(false);
                    return;
                }
            }

            var files = await QueryHandler!.RetrieveAsync(query, cancellationToken).ConfigureAwait(false);
            remaining = files.Count;
            var headers = new List<(string Path, Part10Header? Header)>(files.Count);
            foreach (var path in files)
            {
                try
                {
                    headers.Add((path, await Part10Header.ReadAsync(path, cancellationToken).ConfigureAwait(false)));
                }
                catch (Exception ex) when (ex is DicomReadException or IOException or UnauthorizedAccessException)
                {
                    headers.Add((path, null));
                }
            }

            if (isMove && files.Count > 0)
            {
                var builder = new AssociationRequestBuilder(association.CalledAeTitle, destination!.AeTitle)
                    .AddStorageContexts(headers.Where(h => h.Header is not null).Select(h => h.Header!));
                try
                {
                    target = await DicomClient.ConnectAsync(new DicomClientOptions
                    {
                        Host = destination.Host,
                        Port = destination.Port,
                        CallingAeTitle = association.CalledAeTitle,
                        CalledAeTitle = destination.AeTitle,
                        Association = MoveAssociationOptions,
                        Tls = destination.Tls ? MoveTls ?? new DicomTlsOptions() : null,
                        Logger = Logger,
                    }, builder.Build(), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is DicomAssociationException or System.Net.Sockets.SocketException or TimeoutException or IOException
                    or System.Security.Authentication.AuthenticationException)
                {
                    // PS3.4 §C.4.2.1.5: A702, unable to perform sub-operations.
                    failed = remaining;
                    remaining = 0;
                    failedUids.AddRange(headers.Where(h => h.Header is not null).Select(h => h.Header!.SopInstanceUid));
                    comment = $"cannot associate with {destination.AeTitle}: {ex.Message}";
                    await RespondAsync(DimseStatus.OutOfResourcesUnableToPerformSubOperations, withRemaining: false).ConfigureAwait(false);
                    return;
                }
            }
            var sender = isMove ? target! : association;

            foreach (var (path, header) in headers)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    final = DimseStatus.Cancel;
                    break;
                }
                StoreFileResult result = header is null
                    ? new StoreFileResult(path, null, null, "not a readable Part 10 file")
                    : await sender.StoreFileAsync(path, command.Priority, isMove ? association.CallingAeTitle : null, isMove ? command.MessageId : null, CancellationToken.None).ConfigureAwait(false);
                remaining--;
                switch (result.Status?.Category)
                {
                    case DimseStatusCategory.Success: completed++; break;
                    case DimseStatusCategory.Warning: warning++; break;
                    default:
                        failed++;
                        if (result.SopInstanceUid is { } uid) failedUids.Add(uid);
                        break;
                }
                if (remaining > 0) await RespondAsync(DimseStatus.Pending, withRemaining: true).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!association.Aborted.IsCancellationRequested)
        {
            final = DimseStatus.Cancel;
        }
        catch (Exception ex) when (!association.Aborted.IsCancellationRequested)
        {
            // The handler failed, or the destination went away: what is left counts as failed.
            Log.HandlerFailed(Logger, association.Name, command.ToString(), ex);
            comment = ex.Message;
            failed += remaining;
            remaining = 0;
            final = completed == 0 && warning == 0 ? DimseStatus.OutOfResourcesUnableToPerformSubOperations : DimseStatus.SubOperationsCompleteWithFailures;
        }
        finally
        {
            if (target is not null)
            {
                try
                {
                    await target.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (DicomAssociationException)
                {
                }
                await target.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (association.Aborted.IsCancellationRequested) return;
        // PS3.4 §C.4.2.1.5, §C.4.3.1.4: success if every sub-operation completed, B000 if some failed or warned,
        // A702 if all failed; FE00 after a cancel, with the remaining count.
        final ??= failed == 0 && warning == 0 ? DimseStatus.Success
            : completed == 0 && warning == 0 ? DimseStatus.OutOfResourcesUnableToPerformSubOperations
            : DimseStatus.SubOperationsCompleteWithFailures;
        await RespondAsync(final.Value, withRemaining: final.Value == DimseStatus.Cancel).ConfigureAwait(false);
    }

    private static ushort Clamp(int count) => (ushort)Math.Clamp(count, 0, ushort.MaxValue);
}

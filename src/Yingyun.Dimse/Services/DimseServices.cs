using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Yingyun.Dimse;

/// <summary>The DIMSE services an association offers to its peer, dispatched from the receive loop: C-ECHO always,
/// C-STORE through <see cref="StoreHandler"/>, C-FIND/C-MOVE/C-GET through <see cref="QueryHandler"/> (and
/// <see cref="MoveDestinationResolver"/>), the Storage Commitment Push Model's N-ACTION through
/// <see cref="StorageCommitmentHandler"/> and its N-EVENT-REPORT through <see cref="StorageCommitmentReportHandler"/>.
/// Every request gets a response, whatever the handler does.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification =
    "The only disposable field is a CancellationTokenSource with neither timer nor linked token: it holds nothing to release.")]
public sealed partial class DimseServices : IDimseRequestProcessor
{
    public IStoreHandler? StoreHandler { get; set; }

    public ILogger Logger { get; set; } = NullLogger.Instance;

    async ValueTask IDimseRequestProcessor.ProcessAsync(DimseRequestContext request, CancellationToken cancellationToken)
    {
        switch (request.Command.CommandField)
        {
            case DimseCommandField.CEchoRequest:
                // PS3.7 §9.1.5, PS3.4 Annex A: the verification response carries success.
                await request.SendResponseAsync(DimseStatus.Success, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
            case DimseCommandField.CStoreRequest:
                await StoreAsync(request, cancellationToken).ConfigureAwait(false);
                break;
            case DimseCommandField.CFindRequest or DimseCommandField.CMoveRequest or DimseCommandField.CGetRequest:
                await QueryRetrieveAsync(request, cancellationToken).ConfigureAwait(false);
                break;
            case DimseCommandField.NActionRequest:
                await StorageCommitmentRequestAsync(request, cancellationToken).ConfigureAwait(false);
                break;
            case DimseCommandField.NEventReportRequest:
                await StorageCommitmentReportAsync(request, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await request.SendResponseAsync(DimseStatus.UnrecognizedOperation, $"{request.Command.CommandField} is not supported", cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async Task StoreAsync(DimseRequestContext request, CancellationToken cancellationToken)
    {
        var command = request.Command;
        var pc = request.PresentationContext;
        var association = request.Association;
        // PS3.7 §9.1.1.1: the Affected SOP Class UID is the abstract syntax of the presentation context used.
        StoreResult result;
        if (request.DataSet is null)
            result = new StoreResult(DimseStatus.CannotUnderstand, "C-STORE-RQ without a data set");
        else if (command.AffectedSopClassUid != pc.AbstractSyntax)
            result = new StoreResult(DimseStatus.SopClassNotSupported, "Affected SOP Class UID differs from the presentation context");
        else if (string.IsNullOrEmpty(command.AffectedSopInstanceUid))
            result = new StoreResult(DimseStatus.CannotUnderstand, "C-STORE-RQ without Affected SOP Instance UID");
        else if (StoreHandler is null)
            result = new StoreResult(DimseStatus.SopClassNotSupported, "this AE does not store instances");
        else
        {
            var storeRequest = new StoreRequest(command.AffectedSopClassUid, command.AffectedSopInstanceUid, pc.TransferSyntax!, command.MessageId,
                command.Priority, association.CallingAeTitle, association.CalledAeTitle, association.RemoteEndPoint, association.UserIdentity,
                command.MoveOriginatorAeTitle, command.MoveOriginatorMessageId);
            try
            {
                result = await StoreHandler.StoreAsync(storeRequest, request.DataSet, cancellationToken).ConfigureAwait(false);
            }
            catch (DicomAssociationException)
            {
                throw;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // PS3.4 §B.2.3: a failure we cannot classify better is "processing failure" (0110H).
                Log.HandlerFailed(Logger, association.Name, command.ToString(), ex);
                result = new StoreResult(DimseStatus.ProcessingFailure, ex.Message);
            }
            Log.Stored(Logger, association.Name, storeRequest.SopInstanceUid, result.Status);
        }
        if (request.DataSet is not null)
        {
            // The response may only follow the whole request (PS3.7 §9.3.1.1); drop what the handler left.
            await request.DataSet.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }
        var response = DimseCommand.CreateResponse(command, result.Status);
        if (result.ErrorComment is { } comment && !result.Status.IsSuccess) response.ErrorComment = comment;
        await association.SendResponseAsync(pc.Id, response, null, cancellationToken).ConfigureAwait(false);
    }
}

using Microsoft.Extensions.Logging;

namespace Yingyun.Dimse;

/// <summary>Source-generated log messages of the DIMSE layer.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "{Association}: {State} + {Event} -> {Action}")]
    public static partial void Transition(ILogger logger, string association, UpperLayerState state, UpperLayerEvent @event, UpperLayerAction action);

    [LoggerMessage(2, LogLevel.Information, "{Association}: established, {Accepted}/{Proposed} presentation contexts accepted")]
    public static partial void Established(ILogger logger, string association, int accepted, int proposed);

    [LoggerMessage(3, LogLevel.Information, "{Association}: rejected ({Reject})")]
    public static partial void Rejected(ILogger logger, string association, AssociateReject reject);

    [LoggerMessage(4, LogLevel.Warning, "{Association}: protocol error, sending A-ABORT ({Reason}): {Message}")]
    public static partial void ProtocolError(ILogger logger, string association, AbortReason reason, string message);

    [LoggerMessage(5, LogLevel.Information, "{Association}: ended ({Reason})")]
    public static partial void Ended(ILogger logger, string association, AssociationEndReason reason);

    [LoggerMessage(6, LogLevel.Warning, "{Association}: DIMSE error, aborting: {Message}")]
    public static partial void DimseError(ILogger logger, string association, string message);

    [LoggerMessage(7, LogLevel.Warning, "{Association}: the peer aborted ({Abort})")]
    public static partial void PeerAborted(ILogger logger, string association, AbortPdu abort);

    [LoggerMessage(8, LogLevel.Error, "{Association}: handler for {Command} failed")]
    public static partial void HandlerFailed(ILogger logger, string association, string command, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "{Association}: idle for {Idle}, aborting")]
    public static partial void IdleTimeout(ILogger logger, string association, TimeSpan idle);

    [LoggerMessage(10, LogLevel.Debug, "{Association}: ARTIM expired in {State}, closing")]
    public static partial void ArtimExpired(ILogger logger, string association, UpperLayerState state);

    [LoggerMessage(11, LogLevel.Debug, "{Association}: response for unknown message ID {MessageId} ignored")]
    public static partial void UnknownResponse(ILogger logger, string association, ushort messageId);

    [LoggerMessage(12, LogLevel.Information, "{Association}: storage commitment requested, transaction {TransactionUid}, {Count} instances")]
    public static partial void CommitmentRequested(ILogger logger, string association, string transactionUid, int count);

    [LoggerMessage(13, LogLevel.Information, "{Association}: storage commitment report for {TransactionUid} (event type {EventTypeId}) sent on {Path}")]
    public static partial void ReportSent(ILogger logger, string association, string transactionUid, ushort eventTypeId, string path);

    [LoggerMessage(14, LogLevel.Warning, "{Association}: storage commitment report for {TransactionUid} answered with {Status}")]
    public static partial void ReportRefused(ILogger logger, string association, string transactionUid, DimseStatus status);

    [LoggerMessage(15, LogLevel.Information, "{Association}: storage commitment report for {TransactionUid} not sent: {Reason}")]
    public static partial void ReportAttemptFailed(ILogger logger, string association, string transactionUid, string reason);

    [LoggerMessage(16, LogLevel.Error, "{Association}: storage commitment report for {TransactionUid} could not be delivered: {Reason}")]
    public static partial void ReportNotDelivered(ILogger logger, string association, string transactionUid, string reason);

    [LoggerMessage(17, LogLevel.Information, "{Association}: storage commitment report for {TransactionUid} received (event type {EventTypeId}), answered {Status}")]
    public static partial void ReportReceived(ILogger logger, string association, string transactionUid, ushort eventTypeId, DimseStatus status);

    [LoggerMessage(20, LogLevel.Information, "DICOM server listening on {EndPoint} as {AeTitle}")]
    public static partial void Listening(ILogger logger, System.Net.EndPoint endPoint, string aeTitle);

    [LoggerMessage(21, LogLevel.Warning, "Connection from {Remote} closed at once: {Count} connections open")]
    public static partial void TooManyConnections(ILogger logger, System.Net.EndPoint? remote, int count);

    [LoggerMessage(22, LogLevel.Error, "Accept loop failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(23, LogLevel.Error, "{Association}: connection handler failed")]
    public static partial void ConnectionFailed(ILogger logger, string association, Exception exception);

    [LoggerMessage(25, LogLevel.Warning, "TLS handshake with {Remote} failed: {Message}")]
    public static partial void TlsFailed(ILogger logger, System.Net.EndPoint? remote, string message);

    [LoggerMessage(24, LogLevel.Debug, "{Association}: stored {SopInstanceUid} ({Status})")]
    public static partial void Stored(ILogger logger, string association, string sopInstanceUid, DimseStatus status);
}

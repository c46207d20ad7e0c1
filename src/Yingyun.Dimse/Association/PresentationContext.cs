using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>A negotiated presentation context (PS3.8 §7.1.1.13): what was proposed and what the acceptor answered,
/// with the roles agreed by SCP/SCU role selection (PS3.7 §D.3.3.4).</summary>
public sealed class PresentationContext
{
    public PresentationContext(byte id, string abstractSyntax, IReadOnlyList<string> proposedTransferSyntaxes,
        PresentationContextResult result, DicomTransferSyntax? transferSyntax, bool requestorIsScu = true, bool requestorIsScp = false)
    {
        Id = id;
        AbstractSyntax = abstractSyntax;
        ProposedTransferSyntaxes = proposedTransferSyntaxes;
        Result = result;
        TransferSyntax = transferSyntax;
        RequestorIsScu = requestorIsScu;
        RequestorIsScp = requestorIsScp;
    }

    public byte Id { get; }
    public string AbstractSyntax { get; }
    public IReadOnlyList<string> ProposedTransferSyntaxes { get; }
    public PresentationContextResult Result { get; }

    /// <summary>The accepted transfer syntax; null when the context was rejected.</summary>
    public DicomTransferSyntax? TransferSyntax { get; }

    public bool IsAccepted => Result == PresentationContextResult.Acceptance;

    /// <summary>The association-requestor may invoke operations of this SOP class (the default role, PS3.7 §D.3.3.4).</summary>
    public bool RequestorIsScu { get; }

    /// <summary>The association-requestor may perform operations of this SOP class: the acceptor sends it requests
    /// (the C-STORE sub-operations of a C-GET).</summary>
    public bool RequestorIsScp { get; }

    public override string ToString() => IsAccepted
        ? $"[{Id}] {DicomUids.GetName(AbstractSyntax)} — {TransferSyntax!.Name}"
        : $"[{Id}] {DicomUids.GetName(AbstractSyntax)} — rejected: {Result}";
}

/// <summary>Why an association ended.</summary>
public enum AssociationEndReason
{
    /// <summary>Still running.</summary>
    None,
    Released,
    /// <summary>The association request was rejected (by us or by the peer).</summary>
    Rejected,
    /// <summary>We sent A-ABORT (local request or a protocol error we detected).</summary>
    AbortedLocally,
    /// <summary>The peer sent A-ABORT.</summary>
    AbortedByPeer,
    /// <summary>The transport closed without release or abort (A-P-ABORT indication, PS3.8 §7.4).</summary>
    TransportClosed,
    /// <summary>The ARTIM timer expired (PS3.8 §9.1.5).</summary>
    ArtimExpired,
}

/// <summary>An association operation failed because the association is gone or was never established.</summary>
public class DicomAssociationException : Exception
{
    public DicomAssociationException() { }
    public DicomAssociationException(string message) : base(message) { }
    public DicomAssociationException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The peer (or we) rejected the association request.</summary>
public sealed class DicomAssociationRejectedException : DicomAssociationException
{
    public DicomAssociationRejectedException(AssociateReject reject) : base($"association rejected: {reject}") => Reject = reject;
    public DicomAssociationRejectedException() { }
    public DicomAssociationRejectedException(string message) : base(message) { }
    public DicomAssociationRejectedException(string message, Exception inner) : base(message, inner) { }

    public AssociateReject? Reject { get; }
}

/// <summary>The association was aborted (A-ABORT or A-P-ABORT).</summary>
public sealed class DicomAssociationAbortedException : DicomAssociationException
{
    public DicomAssociationAbortedException(AbortPdu? abort, string message) : base(message) => Abort = abort;
    public DicomAssociationAbortedException() { }
    public DicomAssociationAbortedException(string message) : base(message) { }
    public DicomAssociationAbortedException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The A-ABORT received or sent; null for a closed transport.</summary>
    public AbortPdu? Abort { get; }
}

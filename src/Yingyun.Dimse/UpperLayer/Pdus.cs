using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>A presentation context as proposed in the A-ASSOCIATE-RQ (PS3.8 §9.3.2.2): an odd ID, one abstract
/// syntax and one or more transfer syntaxes in the requestor's order of preference.</summary>
public sealed record PresentationContextRequestItem(byte Id, string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes)
{
    public override string ToString() => $"[{Id}] {DicomUids.GetName(AbstractSyntax)}: {string.Join(", ", TransferSyntaxes.Select(DicomUids.GetName))}";
}

/// <summary>The acceptor's answer to one proposed presentation context in the A-ASSOCIATE-AC (PS3.8 §9.3.3.2). The
/// transfer syntax is meaningful only on acceptance.</summary>
public sealed record PresentationContextAcceptItem(byte Id, PresentationContextResult Result, string TransferSyntax)
{
    public override string ToString() => Result == PresentationContextResult.Acceptance
        ? $"[{Id}] accepted {DicomUids.GetName(TransferSyntax)}"
        : $"[{Id}] {Result}";
}

/// <summary>Asynchronous Operations Window sub-item (PS3.7 §D.3.3.3): 0 means unlimited, 1/1 is the default
/// (synchronous operation) that applies when the sub-item is absent.</summary>
public sealed record AsynchronousOperationsWindow(ushort MaximumOperationsInvoked, ushort MaximumOperationsPerformed);

/// <summary>SCP/SCU Role Selection sub-item (PS3.7 §D.3.3.4). In the A-ASSOCIATE-RQ the flags are the roles the
/// requestor proposes for itself; in the A-ASSOCIATE-AC they are the roles the acceptor grants to the requestor.</summary>
public sealed record RoleSelection(string SopClassUid, bool ScuRole, bool ScpRole);

/// <summary>SOP Class Extended Negotiation sub-item (PS3.7 §D.3.3.5): opaque, service-class specific bytes.</summary>
public sealed record SopClassExtendedNegotiation(string SopClassUid, ReadOnlyMemory<byte> ServiceClassApplicationInformation);

/// <summary>SOP Class Common Extended Negotiation sub-item (PS3.7 §D.3.3.6); sent by the requestor only.</summary>
public sealed record SopClassCommonExtendedNegotiation(string SopClassUid, string ServiceClassUid, IReadOnlyList<string> RelatedGeneralSopClassUids);

/// <summary>User Identity sub-item of the A-ASSOCIATE-RQ (PS3.7 §D.3.3.7.1). The secondary field (passcode) is only
/// used with <see cref="UserIdentityType.UsernameAndPasscode"/>.</summary>
public sealed record UserIdentityRequest(UserIdentityType Type, bool PositiveResponseRequested, ReadOnlyMemory<byte> PrimaryField, ReadOnlyMemory<byte> SecondaryField)
{
    public static UserIdentityRequest ForUsername(string username, bool positiveResponseRequested = false) =>
        new(UserIdentityType.Username, positiveResponseRequested, System.Text.Encoding.UTF8.GetBytes(username), default);

    public static UserIdentityRequest ForUsernameAndPasscode(string username, string passcode, bool positiveResponseRequested = false) =>
        new(UserIdentityType.UsernameAndPasscode, positiveResponseRequested, System.Text.Encoding.UTF8.GetBytes(username), System.Text.Encoding.UTF8.GetBytes(passcode));

    public static UserIdentityRequest ForJsonWebToken(string jwt, bool positiveResponseRequested = false) =>
        new(UserIdentityType.JsonWebToken, positiveResponseRequested, System.Text.Encoding.UTF8.GetBytes(jwt), default);

    /// <summary>The primary field as text (UTF-8, PS3.7 §D.3.3.7.1) for the username and JWT types.</summary>
    public string PrimaryFieldText => System.Text.Encoding.UTF8.GetString(PrimaryField.Span);

    // Never print a passcode or token into logs.
    public override string ToString() => Type is UserIdentityType.Username or UserIdentityType.UsernameAndPasscode
        ? $"{Type} '{PrimaryFieldText}'"
        : $"{Type} ({PrimaryField.Length} bytes)";
}

/// <summary>User Identity sub-item of the A-ASSOCIATE-AC (PS3.7 §D.3.3.7.2): the server response (a Kerberos ticket, a
/// SAML response or a JWT), empty for the username types.</summary>
public sealed record UserIdentityAccept(ReadOnlyMemory<byte> ServerResponse);

/// <summary>The User Information item (PS3.8 §9.3.2.3 and Annex D, PS3.7 Annex D.3.3) with all its sub-items.</summary>
public sealed class UserInformation
{
    /// <summary>Maximum length of the variable field of P-DATA-TF PDUs the sender of this item can receive (PS3.8
    /// §D.1); 0 means no limit.</summary>
    public uint MaximumLength { get; set; }

    public string ImplementationClassUid { get; set; } = Implementation.ClassUid;

    public string? ImplementationVersionName { get; set; } = Implementation.VersionName;

    public AsynchronousOperationsWindow? AsynchronousOperationsWindow { get; set; }

    public List<RoleSelection> RoleSelections { get; } = [];

    public List<SopClassExtendedNegotiation> SopClassExtendedNegotiations { get; } = [];

    public List<SopClassCommonExtendedNegotiation> SopClassCommonExtendedNegotiations { get; } = [];

    /// <summary>Only in an A-ASSOCIATE-RQ.</summary>
    public UserIdentityRequest? UserIdentity { get; set; }

    /// <summary>Only in an A-ASSOCIATE-AC.</summary>
    public UserIdentityAccept? UserIdentityAccept { get; set; }
}

/// <summary>What an A-ASSOCIATE-RQ and an A-ASSOCIATE-AC have in common (PS3.8 §9.3.2, §9.3.3).</summary>
public abstract class AssociatePdu
{
    /// <summary>Bit 0 set means version 1 of the protocol (PS3.8 §9.3.2).</summary>
    public ushort ProtocolVersion { get; set; } = 1;

    /// <summary>Up to 16 characters; leading and trailing spaces are not significant (PS3.8 §9.3.2).</summary>
    public string CalledAeTitle { get; set; } = "ANY-SCP";

    public string CallingAeTitle { get; set; } = "ANY-SCU";

    public string ApplicationContextName { get; set; } = DicomUids.DICOMApplicationContext;

    public UserInformation UserInformation { get; set; } = new();
}

/// <summary>A-ASSOCIATE-RQ PDU (PS3.8 §9.3.2, Table 9-11).</summary>
public sealed class AssociateRequest : AssociatePdu
{
    public List<PresentationContextRequestItem> PresentationContexts { get; } = [];
}

/// <summary>A-ASSOCIATE-AC PDU (PS3.8 §9.3.3, Table 9-17). The AE titles repeat the request's.</summary>
public sealed class AssociateAccept : AssociatePdu
{
    public List<PresentationContextAcceptItem> PresentationContexts { get; } = [];
}

/// <summary>A-ASSOCIATE-RJ PDU (PS3.8 §9.3.4, Table 9-21). The meaning of <see cref="Reason"/> depends on <see cref="Source"/>.</summary>
public sealed record AssociateReject(AssociateRejectResult Result, AssociateRejectSource Source, byte Reason)
{
    // Table 9-21, source 1 (service user).
    public static AssociateReject NoReasonGiven(AssociateRejectResult result = AssociateRejectResult.RejectedPermanent) =>
        new(result, AssociateRejectSource.ServiceUser, 1);
    public static AssociateReject ApplicationContextNameNotSupported { get; } = new(AssociateRejectResult.RejectedPermanent, AssociateRejectSource.ServiceUser, 2);
    public static AssociateReject CallingAeTitleNotRecognized { get; } = new(AssociateRejectResult.RejectedPermanent, AssociateRejectSource.ServiceUser, 3);
    public static AssociateReject CalledAeTitleNotRecognized { get; } = new(AssociateRejectResult.RejectedPermanent, AssociateRejectSource.ServiceUser, 7);
    // Table 9-21, source 2 (service provider, ACSE related).
    public static AssociateReject ProtocolVersionNotSupported { get; } = new(AssociateRejectResult.RejectedPermanent, AssociateRejectSource.ServiceProviderAcse, 2);
    // Table 9-21, source 3 (service provider, presentation related).
    public static AssociateReject TemporaryCongestion { get; } = new(AssociateRejectResult.RejectedTransient, AssociateRejectSource.ServiceProviderPresentation, 1);
    public static AssociateReject LocalLimitExceeded { get; } = new(AssociateRejectResult.RejectedTransient, AssociateRejectSource.ServiceProviderPresentation, 2);

    public string Description => (Source, Reason) switch
    {
        (AssociateRejectSource.ServiceUser, 1) => "no reason given",
        (AssociateRejectSource.ServiceUser, 2) => "application context name not supported",
        (AssociateRejectSource.ServiceUser, 3) => "calling AE title not recognized",
        (AssociateRejectSource.ServiceUser, 7) => "called AE title not recognized",
        (AssociateRejectSource.ServiceProviderAcse, 1) => "no reason given (ACSE)",
        (AssociateRejectSource.ServiceProviderAcse, 2) => "protocol version not supported",
        (AssociateRejectSource.ServiceProviderPresentation, 1) => "temporary congestion",
        (AssociateRejectSource.ServiceProviderPresentation, 2) => "local limit exceeded",
        _ => $"reason {Reason}",
    };

    public override string ToString() => $"{Result}, {Source}: {Description}";
}

/// <summary>A-ABORT PDU (PS3.8 §9.3.8, Table 9-26).</summary>
public sealed record AbortPdu(AbortSource Source, AbortReason Reason)
{
    public override string ToString() => Source == AbortSource.ServiceProvider ? $"{Source}: {Reason}" : Source.ToString();
}

/// <summary>This implementation's identification in the User Information item (PS3.7 §D.3.3.2): the same as the
/// Part 10 writer puts in File Meta Information, so files and associations name one implementation.</summary>
public static class Implementation
{
    public const string ClassUid = DicomWriter.ImplementationClassUid;

    /// <summary>At most 16 characters (PS3.7 §D.3.3.2.3).</summary>
    public const string VersionName = DicomWriter.ImplementationVersionName;
}

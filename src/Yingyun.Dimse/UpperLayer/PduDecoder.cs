using System.Buffers.Binary;
using System.Text;

namespace Yingyun.Dimse;

/// <summary>A PDU that breaks PS3.8 §9.3: the caller answers it with an A-ABORT whose reason is <see cref="Reason"/>
/// (source: service provider, PS3.8 §9.3.8 Table 9-26).</summary>
public sealed class PduFormatException : Exception
{
    public PduFormatException(AbortReason reason, string message) : base(message) => Reason = reason;
    public PduFormatException() : this(AbortReason.InvalidPduParameterValue, "invalid PDU") { }
    public PduFormatException(string message) : this(AbortReason.InvalidPduParameterValue, message) { }
    public PduFormatException(string message, Exception inner) : base(message, inner) => Reason = AbortReason.InvalidPduParameterValue;

    public AbortReason Reason { get; }
}

/// <summary>Strict decoding of the association PDUs from their variable field (the bytes after the 6-byte PDU
/// header). Every length is checked against the bytes that remain before anything is sliced or allocated; the
/// caller has already bounded the whole PDU length.</summary>
public static class PduDecoder
{
    /// <summary>UIDs are at most 64 characters (PS3.5 §9.1); PDU items carry them unpadded (PS3.8 Annex F).</summary>
    private const int MaxUidLength = 64;

    /// <summary>Presentation context IDs are odd numbers 1–255 (PS3.8 §9.3.2.2), so at most 128 contexts.</summary>
    private const int MaxPresentationContexts = 128;

    /// <summary>Fixed fields before the variable items of an A-ASSOCIATE-RQ/AC (PS3.8 Table 9-11, 9-17): protocol
    /// version 2, reserved 2, called AE 16, calling AE 16, reserved 32.</summary>
    public const int AssociateFixedFieldsLength = 68;

    public static AssociateRequest DecodeAssociateRequest(ReadOnlySpan<byte> body)
    {
        var rq = new AssociateRequest();
        DecodeAssociate(body, rq, isRequest: true, rq.PresentationContexts, null);
        return rq;
    }

    public static AssociateAccept DecodeAssociateAccept(ReadOnlySpan<byte> body)
    {
        var ac = new AssociateAccept();
        DecodeAssociate(body, ac, isRequest: false, null, ac.PresentationContexts);
        return ac;
    }

    public static AssociateReject DecodeAssociateReject(ReadOnlySpan<byte> body)
    {
        RequireFixedLength(body, "A-ASSOCIATE-RJ");
        // PS3.8 Table 9-21: result 1–2, source 1–3.
        if (body[1] is < 1 or > 2) throw Invalid($"A-ASSOCIATE-RJ result {body[1]} is not 1 or 2");
        if (body[2] is < 1 or > 3) throw Invalid($"A-ASSOCIATE-RJ source {body[2]} is not 1, 2 or 3");
        return new AssociateReject((AssociateRejectResult)body[1], (AssociateRejectSource)body[2], body[3]);
    }

    public static AbortPdu DecodeAbort(ReadOnlySpan<byte> body)
    {
        RequireFixedLength(body, "A-ABORT");
        // Reserved fields are not tested (PS3.8 Table 9-26); an unknown source or reason is kept as received.
        return new AbortPdu((AbortSource)body[2], (AbortReason)body[3]);
    }

    /// <summary>A-RELEASE-RQ and -RP have a fixed 4-byte reserved variable field (PS3.8 Tables 9-24, 9-25).</summary>
    public static void DecodeRelease(ReadOnlySpan<byte> body, PduType type) => RequireFixedLength(body, type.ToString());

    private static void RequireFixedLength(ReadOnlySpan<byte> body, string what)
    {
        if (body.Length != 4) throw Invalid($"{what} PDU length is {body.Length}; PS3.8 fixes it at 4");
    }

    private static void DecodeAssociate(ReadOnlySpan<byte> body, AssociatePdu pdu, bool isRequest,
        List<PresentationContextRequestItem>? requested, List<PresentationContextAcceptItem>? accepted)
    {
        string what = isRequest ? "A-ASSOCIATE-RQ" : "A-ASSOCIATE-AC";
        if (body.Length < AssociateFixedFieldsLength)
            throw Invalid($"{what} PDU length {body.Length} is shorter than its {AssociateFixedFieldsLength} bytes of fixed fields");
        pdu.ProtocolVersion = BinaryPrimitives.ReadUInt16BigEndian(body);
        pdu.CalledAeTitle = DecodeAeTitle(body.Slice(4, 16));
        pdu.CallingAeTitle = DecodeAeTitle(body.Slice(20, 16));

        bool sawApplicationContext = false, sawUserInformation = false;
        var ids = new HashSet<byte>();
        var items = body[AssociateFixedFieldsLength..];
        while (!items.IsEmpty)
        {
            byte type = NextItem(ref items, what, out var value);
            switch ((ItemType)type)
            {
                case ItemType.ApplicationContext:
                    if (sawApplicationContext) throw Unexpected($"{what} has more than one application context item");
                    sawApplicationContext = true;
                    pdu.ApplicationContextName = DecodeUid(value, "application context name");
                    break;
                case ItemType.PresentationContextRequest when isRequest:
                    var rqItem = DecodePresentationContextRequest(value);
                    AddContextId(ids, rqItem.Id, what);
                    requested!.Add(rqItem);
                    break;
                case ItemType.PresentationContextAccept when !isRequest:
                    var acItem = DecodePresentationContextAccept(value);
                    AddContextId(ids, acItem.Id, what);
                    accepted!.Add(acItem);
                    break;
                case ItemType.PresentationContextRequest or ItemType.PresentationContextAccept:
                    throw Unexpected($"{what} contains a presentation context item of type {type:X2}H meant for the other PDU");
                case ItemType.UserInformation:
                    if (sawUserInformation) throw Unexpected($"{what} has more than one user information item");
                    sawUserInformation = true;
                    pdu.UserInformation = DecodeUserInformation(value, isRequest, what);
                    break;
                default:
                    throw new PduFormatException(AbortReason.UnrecognizedPduParameter, $"{what} contains an item of unknown type {type:X2}H");
            }
        }
        // PS3.8 §9.3.2: one application context item, one or more presentation context items and one user
        // information item are mandatory in the request. The acceptor may reject every context, but still lists them.
        if (!sawApplicationContext) throw Invalid($"{what} has no application context item");
        if (!sawUserInformation) throw Invalid($"{what} has no user information item");
        if (isRequest && requested!.Count == 0) throw Invalid($"{what} proposes no presentation context");
    }

    private static void AddContextId(HashSet<byte> ids, byte id, string what)
    {
        if (ids.Count == MaxPresentationContexts) throw Invalid($"{what} has more than {MaxPresentationContexts} presentation contexts");
        if (!ids.Add(id)) throw Invalid($"{what} lists presentation context ID {id} twice");
    }

    private static PresentationContextRequestItem DecodePresentationContextRequest(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4) throw Invalid($"presentation context item of {value.Length} bytes is shorter than its 4 fixed bytes");
        byte id = value[0];
        if ((id & 1) == 0) throw Invalid($"presentation context ID {id} is even (PS3.8 §9.3.2.2 requires odd IDs)");
        string? abstractSyntax = null;
        var transferSyntaxes = new List<string>(4);
        var sub = value[4..];
        while (!sub.IsEmpty)
        {
            byte type = NextItem(ref sub, "presentation context item", out var subValue);
            switch ((ItemType)type)
            {
                case ItemType.AbstractSyntax:
                    if (abstractSyntax is not null) throw Unexpected($"presentation context {id} has more than one abstract syntax");
                    abstractSyntax = DecodeUid(subValue, "abstract syntax");
                    break;
                case ItemType.TransferSyntax:
                    if (transferSyntaxes.Count == 64) throw Invalid($"presentation context {id} proposes more than 64 transfer syntaxes");
                    transferSyntaxes.Add(DecodeUid(subValue, "transfer syntax"));
                    break;
                default:
                    throw new PduFormatException(AbortReason.UnrecognizedPduParameter, $"presentation context {id} contains a sub-item of unknown type {type:X2}H");
            }
        }
        if (abstractSyntax is null) throw Invalid($"presentation context {id} has no abstract syntax");
        if (transferSyntaxes.Count == 0) throw Invalid($"presentation context {id} proposes no transfer syntax");
        return new PresentationContextRequestItem(id, abstractSyntax, transferSyntaxes);
    }

    private static PresentationContextAcceptItem DecodePresentationContextAccept(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4) throw Invalid($"presentation context item of {value.Length} bytes is shorter than its 4 fixed bytes");
        byte id = value[0];
        if ((id & 1) == 0) throw Invalid($"presentation context ID {id} is even (PS3.8 §9.3.3.2 requires odd IDs)");
        byte result = value[2];
        if (result > 4) throw Invalid($"presentation context {id} result {result} is not 0–4 (PS3.8 Table 9-18)");
        string? transferSyntax = null;
        var sub = value[4..];
        while (!sub.IsEmpty)
        {
            byte type = NextItem(ref sub, "presentation context item", out var subValue);
            if ((ItemType)type != ItemType.TransferSyntax)
                throw new PduFormatException(AbortReason.UnexpectedPduParameter, $"accepted presentation context {id} contains a sub-item of type {type:X2}H");
            if (transferSyntax is not null) throw Unexpected($"accepted presentation context {id} has more than one transfer syntax");
            // PS3.8 §9.3.3.2: not tested when the context is rejected (some peers leave it empty).
            transferSyntax = result == 0 ? DecodeUid(subValue, "transfer syntax") : Latin1(subValue);
        }
        if (result == 0 && string.IsNullOrEmpty(transferSyntax))
            throw Invalid($"accepted presentation context {id} names no transfer syntax");
        return new PresentationContextAcceptItem(id, (PresentationContextResult)result, transferSyntax ?? "");
    }

    private static UserInformation DecodeUserInformation(ReadOnlySpan<byte> value, bool isRequest, string what)
    {
        var ui = new UserInformation { ImplementationClassUid = "", ImplementationVersionName = null };
        bool sawMaximumLength = false, sawClassUid = false;
        while (!value.IsEmpty)
        {
            byte type = NextItem(ref value, "user information item", out var sub);
            switch ((ItemType)type)
            {
                case ItemType.MaximumLength:
                    if (sub.Length != 4) throw Invalid($"maximum length sub-item has length {sub.Length}; PS3.8 §D.1 fixes it at 4");
                    ui.MaximumLength = BinaryPrimitives.ReadUInt32BigEndian(sub);
                    sawMaximumLength = true;
                    break;
                case ItemType.ImplementationClassUid:
                    ui.ImplementationClassUid = DecodeUid(sub, "implementation class UID");
                    sawClassUid = true;
                    break;
                case ItemType.ImplementationVersionName:
                    if (sub.Length > 16) throw Invalid($"implementation version name of {sub.Length} bytes exceeds 16 (PS3.7 §D.3.3.2.3)");
                    ui.ImplementationVersionName = Latin1(sub).Trim();
                    break;
                case ItemType.AsynchronousOperationsWindow:
                    if (sub.Length != 4) throw Invalid($"asynchronous operations window sub-item has length {sub.Length}; PS3.7 §D.3.3.3 fixes it at 4");
                    ui.AsynchronousOperationsWindow = new AsynchronousOperationsWindow(
                        BinaryPrimitives.ReadUInt16BigEndian(sub), BinaryPrimitives.ReadUInt16BigEndian(sub[2..]));
                    break;
                case ItemType.RoleSelection:
                {
                    var rest = sub;
                    string uid = ReadLengthPrefixedUid(ref rest, "role selection SOP class UID");
                    if (rest.Length != 2) throw Invalid($"role selection sub-item for {uid} has {rest.Length} bytes after the UID; PS3.7 §D.3.3.4 has 2");
                    if (rest[0] > 1 || rest[1] > 1) throw Invalid($"role selection for {uid} has role values {rest[0]}/{rest[1]}, not 0 or 1");
                    ui.RoleSelections.Add(new RoleSelection(uid, rest[0] == 1, rest[1] == 1));
                    break;
                }
                case ItemType.SopClassExtendedNegotiation:
                {
                    var rest = sub;
                    string uid = ReadLengthPrefixedUid(ref rest, "extended negotiation SOP class UID");
                    ui.SopClassExtendedNegotiations.Add(new SopClassExtendedNegotiation(uid, rest.ToArray()));
                    break;
                }
                case ItemType.SopClassCommonExtendedNegotiation when isRequest:
                {
                    var rest = sub;
                    string sopClass = ReadLengthPrefixedUid(ref rest, "common extended negotiation SOP class UID");
                    string serviceClass = ReadLengthPrefixedUid(ref rest, "common extended negotiation service class UID");
                    if (rest.Length < 2) throw Invalid("common extended negotiation sub-item ends before its related general SOP class length");
                    int relatedLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
                    rest = rest[2..];
                    if (relatedLength != rest.Length) throw Invalid($"common extended negotiation related general SOP class length {relatedLength} does not match the {rest.Length} bytes left");
                    var related = new List<string>();
                    while (!rest.IsEmpty) related.Add(ReadLengthPrefixedUid(ref rest, "related general SOP class UID"));
                    ui.SopClassCommonExtendedNegotiations.Add(new SopClassCommonExtendedNegotiation(sopClass, serviceClass, related));
                    break;
                }
                case ItemType.UserIdentityRequest when isRequest:
                {
                    if (sub.Length < 6) throw Invalid($"user identity sub-item of {sub.Length} bytes is shorter than its 6 fixed bytes");
                    byte identityType = sub[0];
                    if (identityType is < 1 or > 5) throw Invalid($"user identity type {identityType} is not 1–5 (PS3.7 Table D.3-14)");
                    var rest = sub[2..];
                    var primary = ReadLengthPrefixed(ref rest, "user identity primary field");
                    var secondary = ReadLengthPrefixed(ref rest, "user identity secondary field");
                    if (!rest.IsEmpty) throw Invalid($"user identity sub-item has {rest.Length} bytes after its secondary field");
                    if (primary.IsEmpty) throw Invalid("user identity primary field is empty");
                    ui.UserIdentity = new UserIdentityRequest((UserIdentityType)identityType, sub[1] == 1, primary.ToArray(), secondary.ToArray());
                    break;
                }
                case ItemType.UserIdentityAccept when !isRequest:
                {
                    var rest = sub;
                    var response = ReadLengthPrefixed(ref rest, "user identity server response");
                    if (!rest.IsEmpty) throw Invalid($"user identity sub-item has {rest.Length} bytes after its server response");
                    ui.UserIdentityAccept = new UserIdentityAccept(response.ToArray());
                    break;
                }
                case ItemType.SopClassCommonExtendedNegotiation or ItemType.UserIdentityRequest or ItemType.UserIdentityAccept:
                    throw Unexpected($"{what} contains user information sub-item {type:X2}H that only the other PDU may carry");
                default:
                    // PS3.7 §D.3.3: sub-items an implementation does not support are ignored, so that
                    // future extensions do not break older peers.
                    break;
            }
        }
        // PS3.8 §D.1 and PS3.7 §D.3.3.2: maximum length and implementation class UID are mandatory.
        if (!sawMaximumLength) throw Invalid($"{what} user information has no maximum length sub-item");
        if (!sawClassUid) throw Invalid($"{what} user information has no implementation class UID");
        return ui;
    }

    /// <summary>Reads an item header (type, reserved, 16-bit length; PS3.8 §9.3.2) and slices its value after
    /// checking the length against what remains.</summary>
    private static byte NextItem(ref ReadOnlySpan<byte> span, string where, out ReadOnlySpan<byte> value)
    {
        if (span.Length < 4) throw Invalid($"{where}: {span.Length} trailing bytes are too few for an item header");
        byte type = span[0];
        int length = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
        if (length > span.Length - 4)
            throw Invalid($"{where}: item {type:X2}H declares {length} bytes but only {span.Length - 4} remain");
        value = span.Slice(4, length);
        span = span[(4 + length)..];
        return type;
    }

    private static ReadOnlySpan<byte> ReadLengthPrefixed(ref ReadOnlySpan<byte> span, string what)
    {
        if (span.Length < 2) throw Invalid($"{what}: no room for its length");
        int length = BinaryPrimitives.ReadUInt16BigEndian(span);
        if (length > span.Length - 2) throw Invalid($"{what}: declares {length} bytes but only {span.Length - 2} remain");
        var value = span.Slice(2, length);
        span = span[(2 + length)..];
        return value;
    }

    private static string ReadLengthPrefixedUid(ref ReadOnlySpan<byte> span, string what) =>
        DecodeUid(ReadLengthPrefixed(ref span, what), what);

    private static string DecodeUid(ReadOnlySpan<byte> value, string what)
    {
        // Some implementations pad UIDs with a NUL as in data sets (PS3.5 §9.1); PS3.8 Annex F says not to, but
        // the padding carries no meaning, so it is tolerated.
        while (!value.IsEmpty && value[^1] is 0 or (byte)' ') value = value[..^1];
        if (value.IsEmpty) throw Invalid($"{what} is empty");
        if (value.Length > MaxUidLength) throw Invalid($"{what} of {value.Length} characters exceeds {MaxUidLength} (PS3.5 §9.1)");
        return Latin1(value);
    }

    private static string DecodeAeTitle(ReadOnlySpan<byte> value)
    {
        // PS3.8 §9.3.2: leading and trailing spaces are not significant. NUL padding is seen in the field.
        return Latin1(value).Trim(' ', '\0');
    }

    private static string Latin1(ReadOnlySpan<byte> value) => Encoding.Latin1.GetString(value);

    private static PduFormatException Invalid(string message) => new(AbortReason.InvalidPduParameterValue, message);

    private static PduFormatException Unexpected(string message) => new(AbortReason.UnexpectedPduParameter, message);
}

using System.Collections.Concurrent;
using System.Net;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>"May this AE associate?": the archive's tenant rules plug in here (calling AE, source address, user
/// identity).</summary>
public interface IAssociationAuthorizer
{
    ValueTask<AssociationAuthorization> AuthorizeAsync(AssociationRequestContext context, CancellationToken cancellationToken);
}

/// <summary>An authorizer's answer. An allowed identity may carry the server response of PS3.7 §D.3.3.7.2 (a Kerberos
/// ticket, SAML response or JWT) returned when the requestor asked for a positive response.</summary>
public sealed record AssociationAuthorization(AssociateReject? Reject, ReadOnlyMemory<byte> UserIdentityServerResponse = default)
{
    public static AssociationAuthorization Allowed { get; } = new((AssociateReject?)null);

    public static AssociationAuthorization Rejected(AssociateReject reject) => new(reject);
}

/// <summary>Allows the listed calling AE titles only (case-sensitive, as AE titles are, PS3.5 §6.2).</summary>
public sealed class CallingAeAllowList(IEnumerable<string> callingAeTitles) : IAssociationAuthorizer
{
    private readonly HashSet<string> _allowed = new(callingAeTitles.Select(a => a.Trim()), StringComparer.Ordinal);

    public ValueTask<AssociationAuthorization> AuthorizeAsync(AssociationRequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_allowed.Contains(context.Request.CallingAeTitle)
            ? AssociationAuthorization.Allowed
            : AssociationAuthorization.Rejected(AssociateReject.CallingAeTitleNotRecognized));
}

/// <summary>Chooses the transfer syntax of each proposed presentation context (PS3.8 §7.1.1.13: the acceptor picks
/// one of the proposed syntaxes).</summary>
public sealed class TransferSyntaxPolicy
{
    /// <summary>Uncompressed syntaxes in our order of preference: used when no compressed syntax is taken as
    /// proposed. Explicit VR keeps the VRs of private and unknown elements, so it comes first.</summary>
    public List<string> Preferred { get; } = [DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian];

    /// <summary>Take the requestor's first proposed compressed (encapsulated or deflated) syntax as is: storing what
    /// the modality compressed avoids a decompression on the sender and keeps the archive lossless-identical.</summary>
    public bool AcceptCompressedAsProposed { get; set; } = true;

    /// <summary>Which syntaxes can be accepted at all; by default every transfer syntax of the PS3.6 registry
    /// (an unregistered UID could encode the data set any way, so it is refused).</summary>
    public Func<string, bool> IsSupported { get; set; } = static uid => DicomUids.TryGet(uid, out var info) && info.IsTransferSyntax;

    /// <summary>The syntax to accept for <paramref name="proposed"/>; null if none is acceptable (result 4,
    /// transfer-syntaxes-not-supported).</summary>
    public string? Choose(string abstractSyntax, IReadOnlyList<string> proposed)
    {
        if (AcceptCompressedAsProposed && abstractSyntax != DicomUids.Verification)
        {
            foreach (var uid in proposed)
            {
                if (!IsSupported(uid)) continue;
                var ts = DicomTransferSyntax.Parse(uid);
                if (ts.IsEncapsulated || ts.IsDeflated) return uid;
            }
        }
        foreach (var uid in Preferred)
            if (proposed.Contains(uid) && IsSupported(uid)) return uid;
        // Anything else acceptable that was proposed (explicit VR big endian, say), in the requestor's order.
        foreach (var uid in proposed)
        {
            if (!IsSupported(uid)) continue;
            var ts = DicomTransferSyntax.Parse(uid);
            if (!ts.IsEncapsulated && !ts.IsDeflated) return uid;
            if (AcceptCompressedAsProposed) return uid;
        }
        return null;
    }
}

/// <summary>Counts associations in total and per calling AE, for the "local limit exceeded" rejection
/// (A-ASSOCIATE-RJ, transient, source 3, reason 2, PS3.8 Table 9-21).</summary>
public sealed class AssociationLimiter(int maximumTotal, int maximumPerCallingAe)
{
    private readonly ConcurrentDictionary<string, int> _perAe = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public bool TryAcquire(string callingAeTitle)
    {
        lock (_lock)
        {
            int forAe = _perAe.GetValueOrDefault(callingAeTitle);
            if (_total >= maximumTotal || forAe >= maximumPerCallingAe) return false;
            _total++;
            _perAe[callingAeTitle] = forAe + 1;
            return true;
        }
    }

    public void Release(string callingAeTitle)
    {
        lock (_lock)
        {
            _total--;
            int left = _perAe.GetValueOrDefault(callingAeTitle) - 1;
            if (left <= 0) _perAe.TryRemove(callingAeTitle, out _);
            else _perAe[callingAeTitle] = left;
        }
    }
}

/// <summary>The acceptor's negotiation rules (PS3.8 §7.1, PS3.7 Annex D.3): application context, called and calling
/// AE titles, which abstract syntaxes, which transfer syntax, role selection and user identity. Checks run in the
/// order of Table 9-21's reasons so that the first failing one is reported.</summary>
public class AssociationPolicy : IAssociationNegotiator
{
    /// <summary>Our AE title. When set and <see cref="RequireCalledAeTitle"/> is true, a request to another called AE
    /// is rejected with "called AE title not recognized".</summary>
    public string? AeTitle { get; set; }

    public bool RequireCalledAeTitle { get; set; } = true;

    /// <summary>Abstract syntaxes accepted; <see cref="DefaultAbstractSyntaxes"/> unless changed.</summary>
    public HashSet<string> AbstractSyntaxes { get; } = new(DefaultAbstractSyntaxes(), StringComparer.Ordinal);

    public TransferSyntaxPolicy TransferSyntaxes { get; set; } = new();

    /// <summary>"May this AE associate?"; null allows every valid calling AE title.</summary>
    public IAssociationAuthorizer? Authorizer { get; set; }

    /// <summary>Whether the requestor may take the SCP role for a SOP class (PS3.7 §D.3.3.4): needed by C-GET, whose
    /// C-STORE sub-operations we send back, and by a Storage Commitment SCP that opens an association to send us its
    /// N-EVENT-REPORT (PS3.4 §J.3.3.1.3). Default: storage SOP classes and the Storage Commitment Push Model.</summary>
    public Func<string, bool> AllowRequestorScpRole { get; set; } = static sopClass => IsStorage(sopClass) || sopClass == DicomUids.StorageCommitmentPushModel;

    /// <summary>Verification, every storage SOP class of the PS3.6 registry, Patient and Study Root
    /// Query/Retrieve FIND/MOVE/GET, and Storage Commitment Push Model.</summary>
    public static IEnumerable<string> DefaultAbstractSyntaxes()
    {
        yield return DicomUids.Verification;
        foreach (var info in DicomUids.All)
            if (info.IsStorageSopClass) yield return info.Uid;
        yield return DicomUids.PatientRootQueryRetrieveInformationModelFind;
        yield return DicomUids.PatientRootQueryRetrieveInformationModelMove;
        yield return DicomUids.PatientRootQueryRetrieveInformationModelGet;
        yield return DicomUids.StudyRootQueryRetrieveInformationModelFind;
        yield return DicomUids.StudyRootQueryRetrieveInformationModelMove;
        yield return DicomUids.StudyRootQueryRetrieveInformationModelGet;
        yield return DicomUids.StorageCommitmentPushModel;
    }

    public static bool IsStorage(string sopClass) => DicomUids.TryGet(sopClass, out var info) && info.IsStorageSopClass;

    public virtual async ValueTask<AssociationDecision> NegotiateAsync(AssociationRequestContext context, CancellationToken cancellationToken)
    {
        var rq = context.Request;
        // Table 9-21, source 1 reason 2: only the DICOM application context name is defined (PS3.7 Annex A.2.1).
        if (rq.ApplicationContextName != DicomUids.DICOMApplicationContext)
            return AssociationDecision.Reject(AssociateReject.ApplicationContextNameNotSupported);
        if (!ApplicationEntityTitle.IsValid(rq.CalledAeTitle)
            || (RequireCalledAeTitle && AeTitle is { } ours && !string.Equals(ours.Trim(), rq.CalledAeTitle, StringComparison.Ordinal)))
            return AssociationDecision.Reject(AssociateReject.CalledAeTitleNotRecognized);
        if (!ApplicationEntityTitle.IsValid(rq.CallingAeTitle))
            return AssociationDecision.Reject(AssociateReject.CallingAeTitleNotRecognized);

        var authorization = AssociationAuthorization.Allowed;
        if (Authorizer is not null)
        {
            authorization = await Authorizer.AuthorizeAsync(context, cancellationToken).ConfigureAwait(false);
            if (authorization.Reject is { } reject) return AssociationDecision.Reject(reject);
        }

        var ac = new AssociateAccept();
        foreach (var pc in rq.PresentationContexts)
        {
            if (!AbstractSyntaxes.Contains(pc.AbstractSyntax))
            {
                ac.PresentationContexts.Add(new(pc.Id, PresentationContextResult.AbstractSyntaxNotSupported, ""));
                continue;
            }
            var ts = TransferSyntaxes.Choose(pc.AbstractSyntax, pc.TransferSyntaxes);
            ac.PresentationContexts.Add(ts is null
                ? new(pc.Id, PresentationContextResult.TransferSyntaxesNotSupported, "")
                : new(pc.Id, PresentationContextResult.Acceptance, ts));
        }

        // PS3.7 §D.3.3.4: answer each proposed role selection for a SOP class we accepted; a role is granted only if
        // proposed. The SCU role is the default and always fine. The requestor may send one item per SOP class: a
        // repeated one gets no second answer (the first is the one the association applies), so that repeats cannot
        // grow the A-ASSOCIATE-AC's user information item past its 16-bit length (PS3.8 §9.3.3.3).
        var answered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in rq.UserInformation.RoleSelections)
        {
            if (!answered.Add(role.SopClassUid)) continue;
            bool accepted = rq.PresentationContexts.Exists(pc => pc.AbstractSyntax == role.SopClassUid
                && ac.PresentationContexts.Exists(a => a.Id == pc.Id && a.Result == PresentationContextResult.Acceptance));
            if (!accepted) continue;
            ac.UserInformation.RoleSelections.Add(new RoleSelection(role.SopClassUid, role.ScuRole, role.ScpRole && AllowRequestorScpRole(role.SopClassUid)));
        }

        // PS3.7 §D.3.3.7.2: a positive response is sent only when asked for and the identity was accepted.
        if (rq.UserInformation.UserIdentity is { PositiveResponseRequested: true })
            ac.UserInformation.UserIdentityAccept = new UserIdentityAccept(authorization.UserIdentityServerResponse);

        return AssociationDecision.Accept(ac);
    }
}

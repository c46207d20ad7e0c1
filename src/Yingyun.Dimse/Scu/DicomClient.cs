using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>Where to connect and what to propose.</summary>
public sealed class DicomClientOptions
{
    public required string Host { get; set; }
    public required int Port { get; set; }
    public string CallingAeTitle { get; set; } = "YINGYUN";
    public string CalledAeTitle { get; set; } = "ANY-SCP";
    public DicomAssociationOptions Association { get; set; } = new();
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests the peer sends us on this association (C-STORE sub-operations of a C-GET).</summary>
    public DimseServices? Services { get; set; }

    public ILogger? Logger { get; set; }

    /// <summary>TLS (PS3.15 §B.9); null: plain TCP.</summary>
    public DicomTlsOptions? Tls { get; set; }
}

/// <summary>Builds the proposed presentation contexts of an A-ASSOCIATE-RQ, numbering them 1, 3, 5… (PS3.8 §9.3.2.2).</summary>
public sealed class AssociationRequestBuilder
{
    private readonly AssociateRequest _request = new();
    private byte _nextId = 1;

    public AssociationRequestBuilder(string callingAeTitle, string calledAeTitle)
    {
        _request.CallingAeTitle = callingAeTitle;
        _request.CalledAeTitle = calledAeTitle;
    }

    /// <summary>Proposes <paramref name="abstractSyntax"/> with <paramref name="transferSyntaxes"/> (default: explicit
    /// then implicit VR little endian); returns the context ID.</summary>
    public byte AddPresentationContext(string abstractSyntax, params string[] transferSyntaxes)
    {
        if (_nextId == 0 || _request.PresentationContexts.Count == 128) throw new InvalidOperationException("at most 128 presentation contexts (PS3.8 §9.3.2.2)");
        if (transferSyntaxes.Length == 0) transferSyntaxes = [DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian];
        byte id = _nextId;
        _request.PresentationContexts.Add(new PresentationContextRequestItem(id, abstractSyntax, transferSyntaxes));
        _nextId += 2;
        return id;
    }

    /// <summary>Proposes the SCP role for <paramref name="sopClassUid"/> (and keeps the SCU role) — for C-GET.</summary>
    public AssociationRequestBuilder AddRoleSelection(string sopClassUid, bool scuRole = true, bool scpRole = true)
    {
        _request.UserInformation.RoleSelections.Add(new RoleSelection(sopClassUid, scuRole, scpRole));
        return this;
    }

    public AssociationRequestBuilder WithUserIdentity(UserIdentityRequest identity)
    {
        _request.UserInformation.UserIdentity = identity;
        return this;
    }

    public AssociationRequestBuilder WithAsynchronousOperationsWindow(ushort invoked, ushort performed)
    {
        _request.UserInformation.AsynchronousOperationsWindow = new AsynchronousOperationsWindow(invoked, performed);
        return this;
    }

    public AssociateRequest Build() => _request;
}

/// <summary>The SCU entry point: opens a TCP connection and negotiates an association.</summary>
public static class DicomClient
{
    /// <summary>Connects and sends <paramref name="request"/>; returns the established association or throws
    /// <see cref="DicomAssociationRejectedException"/> / <see cref="DicomAssociationAbortedException"/>.</summary>
    public static async Task<DicomAssociation> ConnectAsync(DicomClientOptions options, AssociateRequest request, CancellationToken cancellationToken = default)
    {
        request.CallingAeTitle = string.IsNullOrEmpty(request.CallingAeTitle) ? options.CallingAeTitle : request.CallingAeTitle;
        request.CalledAeTitle = string.IsNullOrEmpty(request.CalledAeTitle) ? options.CalledAeTitle : request.CalledAeTitle;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.ConnectTimeout);
                await socket.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
            }
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Tls is { } tls)
            {
                var ssl = new System.Net.Security.SslStream(stream, leaveInnerStreamOpen: false);
                try
                {
                    using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    handshake.CancelAfter(tls.HandshakeTimeout);
                    await ssl.AuthenticateAsClientAsync(tls.ForClient(options.Host), handshake.Token).ConfigureAwait(false);
                }
                catch
                {
                    await ssl.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
                stream = ssl;
            }
            return await DicomAssociation.RequestAsync(socket, stream, request, options.Association, options.Services, options.Logger, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects proposing the given abstract syntaxes, each with explicit and implicit VR little endian.</summary>
    public static Task<DicomAssociation> ConnectAsync(DicomClientOptions options, IEnumerable<string> abstractSyntaxes, CancellationToken cancellationToken = default)
    {
        var builder = new AssociationRequestBuilder(options.CallingAeTitle, options.CalledAeTitle);
        foreach (var syntax in abstractSyntaxes) builder.AddPresentationContext(syntax);
        return ConnectAsync(options, builder.Build(), cancellationToken);
    }
}

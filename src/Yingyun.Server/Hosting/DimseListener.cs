using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yingyun.Archive.Configuration;
using Yingyun.Archive.Tenants;
using Yingyun.Dimse;

namespace Yingyun.Server.Hosting;

/// <summary>The DIMSE listener of <c>serve</c>: a <see cref="DicomServer"/> whose associations are authorized by the
/// tenants (<see cref="TenantAssociationAuthorizer"/>), whose C-STORE goes to the ingest (<see cref="IStoreHandler"/>
/// from DI, metered), whose C-FIND/C-MOVE/C-GET go to the index (<see cref="IQueryHandler"/>,
/// <see cref="IMoveDestinationResolver"/> from DI) and whose Storage Commitment is answered from the registry and the
/// blob store (<see cref="IStorageCommitmentHandler"/>, <see cref="IStorageCommitmentRequestorResolver"/>).</summary>
public sealed class DimseListener : IAsyncDisposable
{
    private readonly YingyunOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private DicomServer? _server;

    public DimseListener(YingyunOptions options, IServiceProvider services, YingyunMetrics metrics, ILoggerFactory loggerFactory)
    {
        _options = options;
        _services = services;
        _loggerFactory = loggerFactory;
        metrics.Meter.CreateObservableGauge("yingyun.dimse.associations.active", () => _server?.ActiveAssociations ?? 0, "{association}",
            "DIMSE associations in progress");
    }

    /// <summary>The bound port (the configured one, or the one the OS chose for port 0).</summary>
    public int Port => _server?.LocalEndPoint.Port ?? throw new InvalidOperationException("the DIMSE listener is not started");

    public bool IsListening => _server is not null;

    public int ActiveAssociations => _server?.ActiveAssociations ?? 0;

    public void Start()
    {
        var serverOptions = new DicomServerOptions
        {
            Address = IPAddress.Parse(_options.Dimse.Address),
            Port = _options.Dimse.Port,
            AeTitle = _options.Dimse.AeTitle.Trim(),
            MaximumAssociations = _options.Dimse.MaximumAssociations,
            Policy = new AssociationPolicy { Authorizer = _services.GetRequiredService<TenantAssociationAuthorizer>() },
            Services = new DimseServices
            {
                StoreHandler = new MeteredStoreHandler(_services.GetRequiredService<IStoreHandler>(), _services.GetRequiredService<YingyunMetrics>()),
                QueryHandler = _services.GetRequiredService<IQueryHandler>(),
                MoveDestinationResolver = _services.GetRequiredService<IMoveDestinationResolver>(),
                StorageCommitmentHandler = _services.GetRequiredService<IStorageCommitmentHandler>(),
                StorageCommitmentRequestorResolver = _services.GetRequiredService<IStorageCommitmentRequestorResolver>(),
                Logger = _loggerFactory.CreateLogger<DicomServer>(),
            },
        };
        var server = new DicomServer(serverOptions, _loggerFactory);
        server.Start();
        _server = server;
    }

    /// <summary>Stops accepting associations at once; those in progress run to their end, or are aborted when
    /// <paramref name="cancellationToken"/> fires.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server) await server.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _server, null) is { } server) await server.DisposeAsync().ConfigureAwait(false);
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Yingyun.Archive.Index;
using Yingyun.Archive.Tenants;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Api;

/// <summary><c>/api/tenants</c> and <c>/api/nodes</c>: JSON CRUD over the index store in exactly the shapes of
/// ARCHITECTURE.md §8 (<see cref="TenantConfig"/>, <see cref="NodeConfig"/>). Upserts answer 201 when they created
/// the resource and 200 when they replaced it; a change to the tenants refreshes the <see cref="TenantDirectory"/> at
/// once, so the next association is authorized by it.</summary>
internal static class TenantEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var tenants = app.MapGroup("/api/tenants").WithTags("tenants");
        tenants.MapGet("", async (IIndexStore store, CancellationToken ct) =>
            Results.Ok((await store.GetTenantsAsync(ct)).OrderBy(t => t.Id, StringComparer.Ordinal)))
            .Produces<TenantConfig[]>();
        tenants.MapGet("/{id}", async (string id, IIndexStore store, CancellationToken ct) =>
            await store.GetTenantAsync(id, ct) is { } tenant ? Results.Ok(tenant) : ApiJson.NotFound($"no tenant '{id}'"))
            .Produces<TenantConfig>().ProducesProblem(StatusCodes.Status404NotFound);
        tenants.MapPut("/{id}", (string id, HttpRequest request, IIndexStore store, TenantDirectory directory, CancellationToken ct) =>
            UpsertTenantAsync(id, request, store, directory, ct))
            .Accepts<TenantConfig>("application/json").Produces<TenantConfig>().Produces<TenantConfig>(StatusCodes.Status201Created).ProducesValidationProblem();
        tenants.MapPost("", (HttpRequest request, IIndexStore store, TenantDirectory directory, CancellationToken ct) =>
            UpsertTenantAsync(null, request, store, directory, ct))
            .Accepts<TenantConfig>("application/json").Produces<TenantConfig>().Produces<TenantConfig>(StatusCodes.Status201Created).ProducesValidationProblem();
        tenants.MapDelete("/{id}", async (string id, IIndexStore store, TenantDirectory directory, CancellationToken ct) =>
        {
            var nodes = await store.GetNodesAsync(id, ct);
            if (nodes.Count > 0)
                return ApiJson.Conflict($"tenant '{id}' still has {nodes.Count} node(s) ({string.Join(", ", nodes.Select(n => n.AeTitle))}); delete them first");
            if (!await store.DeleteTenantAsync(id, ct)) return ApiJson.NotFound($"no tenant '{id}'");
            await directory.RefreshAsync(ct);
            return Results.NoContent();
        }).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        var nodes = app.MapGroup("/api/nodes").WithTags("nodes");
        nodes.MapGet("", async (string? tenant, IIndexStore store, CancellationToken ct) =>
            Results.Ok((await store.GetNodesAsync(string.IsNullOrEmpty(tenant) ? null : tenant, ct))
                .OrderBy(n => n.Tenant, StringComparer.Ordinal).ThenBy(n => n.AeTitle, StringComparer.Ordinal)))
            .Produces<NodeConfig[]>();
        nodes.MapGet("/{tenant}/{aeTitle}", async (string tenant, string aeTitle, IIndexStore store, CancellationToken ct) =>
            await FindNodeAsync(store, tenant, aeTitle, ct) is { } node ? Results.Ok(node) : ApiJson.NotFound($"no node '{aeTitle}' in tenant '{tenant}'"))
            .Produces<NodeConfig>().ProducesProblem(StatusCodes.Status404NotFound);
        nodes.MapPut("/{tenant}/{aeTitle}", (string tenant, string aeTitle, HttpRequest request, IIndexStore store, TenantDirectory directory, CancellationToken ct) =>
            UpsertNodeAsync((tenant, aeTitle), request, store, directory, ct))
            .Accepts<NodeConfig>("application/json").Produces<NodeConfig>().Produces<NodeConfig>(StatusCodes.Status201Created).ProducesValidationProblem();
        nodes.MapPost("", (HttpRequest request, IIndexStore store, TenantDirectory directory, CancellationToken ct) =>
            UpsertNodeAsync(null, request, store, directory, ct))
            .Accepts<NodeConfig>("application/json").Produces<NodeConfig>().Produces<NodeConfig>(StatusCodes.Status201Created).ProducesValidationProblem();
        nodes.MapDelete("/{tenant}/{aeTitle}", async (string tenant, string aeTitle, IIndexStore store, CancellationToken ct) =>
            await store.DeleteNodeAsync(tenant, aeTitle, ct) ? Results.NoContent() : ApiJson.NotFound($"no node '{aeTitle}' in tenant '{tenant}'"))
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> UpsertTenantAsync(string? routeId, HttpRequest request, IIndexStore store, TenantDirectory directory, CancellationToken ct)
    {
        var (tenant, problem) = await ApiJson.ReadAsync<TenantConfig>(request, ct);
        if (problem is not null) return problem;
        if (routeId is not null)
        {
            if (string.IsNullOrEmpty(tenant!.Id)) tenant.Id = routeId;
            else if (!string.Equals(tenant.Id, routeId, StringComparison.Ordinal))
                return ApiJson.BadRequest("id", $"id '{tenant.Id}' in the body differs from '{routeId}' in the path");
        }
        if (TenantValidation.Check(tenant!, directory) is { } invalid) return ApiJson.BadRequest(invalid.Field, invalid.Message);
        bool existed = await store.GetTenantAsync(tenant!.Id, ct) is not null;
        await store.UpsertTenantAsync(tenant, ct);
        await directory.RefreshAsync(ct);
        var stored = await store.GetTenantAsync(tenant.Id, ct) ?? tenant;
        return existed ? Results.Ok(stored) : Results.Created($"/api/tenants/{Uri.EscapeDataString(stored.Id)}", stored);
    }

    private static async Task<IResult> UpsertNodeAsync((string Tenant, string AeTitle)? route, HttpRequest request, IIndexStore store, TenantDirectory directory, CancellationToken ct)
    {
        var (node, problem) = await ApiJson.ReadAsync<NodeConfig>(request, ct);
        if (problem is not null) return problem;
        if (route is { } key)
        {
            if (string.IsNullOrEmpty(node!.Tenant)) node.Tenant = key.Tenant;
            else if (!string.Equals(node.Tenant, key.Tenant, StringComparison.Ordinal))
                return ApiJson.BadRequest("tenant", $"tenant '{node.Tenant}' in the body differs from '{key.Tenant}' in the path");
            if (string.IsNullOrEmpty(node.AeTitle)) node.AeTitle = key.AeTitle;
            else if (!string.Equals(node.AeTitle, key.AeTitle, StringComparison.Ordinal))
                return ApiJson.BadRequest("aeTitle", $"aeTitle '{node.AeTitle}' in the body differs from '{key.AeTitle}' in the path");
        }
        if (NodeValidation.Check(node!, directory) is { } invalid) return ApiJson.BadRequest(invalid.Field, invalid.Message);
        bool existed = await FindNodeAsync(store, node!.Tenant, node.AeTitle, ct) is not null;
        await store.UpsertNodeAsync(node, ct);
        var stored = await FindNodeAsync(store, node.Tenant, node.AeTitle, ct) ?? node;
        return existed
            ? Results.Ok(stored)
            : Results.Created($"/api/nodes/{Uri.EscapeDataString(stored.Tenant)}/{Uri.EscapeDataString(stored.AeTitle)}", stored);
    }

    private static async Task<NodeConfig?> FindNodeAsync(IIndexStore store, string tenant, string aeTitle, CancellationToken ct) =>
        (await store.GetNodesAsync(tenant, ct)).FirstOrDefault(n => string.Equals(n.AeTitle, aeTitle, StringComparison.Ordinal));
}

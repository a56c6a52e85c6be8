using Cairn.Storage;

namespace Cairn.Access;

/// <summary>Registers authentication, the admin API's services and rate limits (the store registers <see cref="IAccessStore"/>).</summary>
internal static class AccessServiceCollectionExtensions
{
    public static IServiceCollection AddCairnAccess(this IServiceCollection services, AuthOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(sp => new Authenticator(
            sp.GetRequiredService<IAccessStore>(), options, sp.GetRequiredService<TimeProvider>(), Environment.GetEnvironmentVariable));
        services.AddSingleton<FailedAuthThrottle>();
        services.AddSingleton<AccessService>();
        services.AddSingleton<RateLimits>();
        // After the store's own lifetime service, which opens it.
        services.AddHostedService<AuthStartup>();
        return services;
    }
}

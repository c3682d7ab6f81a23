using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace SaltApi.Testing;

/// <summary>
/// What a test needs from the machine (a program, a package, root). Off CI a missing need skips the test,
/// naming it. With <see cref="Variable"/>=1 (set by <c>.ci/run</c>) the same test fails instead, naming the
/// need: CI cannot pass by skipping what it was meant to check.
/// </summary>
public static class Requirement
{
    /// <summary>The environment variable that turns a missing need into a failure.</summary>
    public const string Variable = "SALTAPI_TESTS_REQUIRE_ALL";

    /// <summary>Whether a missing need fails the test (CI) rather than skipping it.</summary>
    public static bool Enforced => Environment.GetEnvironmentVariable(Variable) is "1" or "true";

    internal static string Failure(string skip) => $"{Variable}=1 and this test cannot run here: {skip}";
}

/// <summary>A fact that needs something from the machine: its <c>Skip</c> names what is missing (see <see cref="Requirement"/>).</summary>
[XunitTestCaseDiscoverer("SaltApi.Testing.RequiredFactDiscoverer", "SaltApi.Testing")]
public abstract class RequiredFactAttribute : FactAttribute;

/// <summary>A theory that needs something from the machine: its <c>Skip</c> names what is missing (see <see cref="Requirement"/>).</summary>
[XunitTestCaseDiscoverer("SaltApi.Testing.RequiredTheoryDiscoverer", "SaltApi.Testing")]
public abstract class RequiredTheoryAttribute : TheoryAttribute;

/// <summary>xunit's fact discovery, or one failing case naming the missing need when <see cref="Requirement.Enforced"/>.</summary>
public sealed class RequiredFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc/>
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        RequiredDiscovery.Failing(diagnostics, discoveryOptions, testMethod, factAttribute)
        ?? new FactDiscoverer(diagnostics).Discover(discoveryOptions, testMethod, factAttribute);
}

/// <summary>xunit's theory discovery, or one failing case naming the missing need when <see cref="Requirement.Enforced"/>.</summary>
public sealed class RequiredTheoryDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc/>
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        RequiredDiscovery.Failing(diagnostics, discoveryOptions, testMethod, factAttribute)
        ?? new TheoryDiscoverer(diagnostics).Discover(discoveryOptions, testMethod, factAttribute);
}

internal static class RequiredDiscovery
{
    public static IXunitTestCase[]? Failing(IMessageSink diagnostics, ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute) =>
        Requirement.Enforced && attribute.GetNamedArgument<string>(nameof(FactAttribute.Skip)) is { Length: > 0 } skip
            ? [new ExecutionErrorTestCase(diagnostics, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method, Requirement.Failure(skip))]
            : null;
}

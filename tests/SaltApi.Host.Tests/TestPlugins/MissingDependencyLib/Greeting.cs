namespace MissingDependencyLib;

/// <summary>A dependency the test removes from the plugin folder.</summary>
public static class Greeting
{
    public static string Text => "hello";
}

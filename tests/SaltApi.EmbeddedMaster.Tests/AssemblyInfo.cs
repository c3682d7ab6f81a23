// The master's sockets and file modes are the unix ones Salt uses; these tests run on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

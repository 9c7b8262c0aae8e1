using O8Actors.Certificates;

namespace O8Actors.Tests.Certificates;

public sealed class ExecutableLocatorTests : IDisposable
{
    private readonly string _first = Directory.CreateTempSubdirectory("o8-path-a-").FullName;
    private readonly string _second = Directory.CreateTempSubdirectory("o8-path-b-").FullName;

    private string PathVariable => string.Join(Path.PathSeparator, _first, "", _second);

    [Fact]
    public void Finds_an_executable_in_a_later_PATH_entry()
    {
        var tool = MakeFile(_second, "mkcert", executable: true);

        Assert.Equal(tool, ExecutableLocator.FindOnPath("mkcert", PathVariable, null, windows: false));
    }

    [Fact]
    public void The_first_PATH_entry_wins()
    {
        var first = MakeFile(_first, "mkcert", executable: true);
        MakeFile(_second, "mkcert", executable: true);

        Assert.Equal(first, ExecutableLocator.FindOnPath("mkcert", PathVariable, null, windows: false));
    }

    [Fact]
    public void Returns_null_when_absent_or_PATH_empty()
    {
        Assert.Null(ExecutableLocator.FindOnPath("mkcert", PathVariable, null, windows: false));
        Assert.Null(ExecutableLocator.FindOnPath("mkcert", "", null, windows: false));
        Assert.Null(ExecutableLocator.FindOnPath("mkcert", null, null, windows: false));
    }

    [Fact]
    public void Skips_a_file_without_execute_permission_on_unix()
    {
        if (OperatingSystem.IsWindows()) return; // Windows has no execute bit; covered by the PATHEXT tests.
        MakeFile(_first, "mkcert", executable: false);
        var runnable = MakeFile(_second, "mkcert", executable: true);

        Assert.Equal(runnable, ExecutableLocator.FindOnPath("mkcert", PathVariable, null, windows: false));
    }

    [Fact]
    public void On_windows_tries_each_PATHEXT_extension()
    {
        var tool = MakeFile(_second, "mkcert.COM", executable: false);

        Assert.Equal(tool, ExecutableLocator.FindOnPath("mkcert", PathVariable, ".EXE;.COM", windows: true));
        Assert.Null(ExecutableLocator.FindOnPath("mkcert", PathVariable, ".EXE;.BAT", windows: true));
    }

    [Fact]
    public void On_windows_a_batch_file_is_never_taken_for_the_program()
    {
        // cmd.exe would run it, reading & and % in the certificate paths as commands and variables.
        MakeFile(_first, "mkcert.cmd", executable: false);
        MakeFile(_second, "mkcert.bat", executable: false);

        Assert.Null(ExecutableLocator.FindOnPath("mkcert", PathVariable, null, windows: true));
        Assert.Null(ExecutableLocator.FindOnPath("mkcert", PathVariable, ".COM;.EXE;.BAT;.CMD", windows: true));
        Assert.Null(ExecutableLocator.FindOnPath("mkcert.cmd", PathVariable, null, windows: true));
    }

    [Fact]
    public void Relative_PATH_entries_are_skipped_since_they_resolve_against_the_current_directory()
    {
        var tool = MakeFile(_first, "mkcert", executable: true);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, _first);
        if (Path.IsPathFullyQualified(relative)) return; // Windows, temp on another drive: no relative path leads there.

        Assert.Null(ExecutableLocator.FindOnPath("mkcert", string.Join(Path.PathSeparator, ".", relative), null, windows: false));
        Assert.Equal(tool, ExecutableLocator.FindOnPath("mkcert", string.Join(Path.PathSeparator, ".", relative, _first), null, windows: false));
    }

    [Fact]
    public void On_windows_a_name_with_extension_is_tried_as_given()
    {
        var tool = MakeFile(_first, "mkcert.exe", executable: false);

        Assert.Equal(tool, ExecutableLocator.FindOnPath("mkcert.exe", PathVariable, ".COM", windows: true));
    }

    [Fact]
    public void Finds_the_real_mkcert_on_this_machine()
    {
        var found = ExecutableLocator.FindOnPath("mkcert");

        Assert.NotNull(found);
        Assert.True(File.Exists(found));
    }

    public void Dispose()
    {
        Directory.Delete(_first, recursive: true);
        Directory.Delete(_second, recursive: true);
    }

    private static string MakeFile(string folder, string name, bool executable)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, executable ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}

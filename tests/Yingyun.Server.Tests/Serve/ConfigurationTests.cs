using Microsoft.Extensions.Configuration;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Server.Cli;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Tests.Serve;

/// <summary>Where `serve` takes its settings from and what it refuses, naming the key (environment variables are
/// covered by <see cref="ServeProcessTests"/>, in a process of their own).</summary>
[Collection("console")]
public class ConfigurationTests
{
    private static Archive.Configuration.YingyunOptions Load(string? configFile, Dictionary<string, string?> overrides)
    {
        var configuration = new ConfigurationManager();
        YingyunConfiguration.AddSources(configuration, configFile, overrides);
        return YingyunConfiguration.Bind(configuration);
    }

    [Fact]
    public void The_config_file_sets_every_section_and_command_line_options_win_over_it()
    {
        using var folder = new TempFolder();
        string file = Path.Combine(folder.Path, "yingyun.json");
        File.WriteAllText(file, """
            { "Yingyun": {
                "DataDirectory": "from-file",
                "Dimse": { "Port": 104, "AeTitle": "FILEAE" },
                "Http": { "Port": 9090 },
                "Tenants": [ { "id": "hospital-a", "aeTitles": ["CT01", "PACS1"], "allowedIps": ["10.1.0.0/16"], "resendPolicy": "keepFirst" } ],
                "Nodes": [ { "aeTitle": "PACS1", "host": "pacs.hospital-a.example", "port": 104, "tenant": "hospital-a", "tls": true } ] } }
            """);

        var options = Load(file, new Dictionary<string, string?> { ["Yingyun:Dimse:AeTitle"] = "CLIAE", ["Yingyun:Http:Port"] = null });
        options.Dimse.AeTitle.Should().Be("CLIAE", "the command line wins");
        options.Dimse.Port.Should().Be(104);
        options.Http.Port.Should().Be(9090, "an option not given leaves the file's value");
        options.DataDirectory.Should().Be(Path.GetFullPath("from-file"), "relative to the working directory");
        options.Tenants.Should().ContainSingle().Which.AeTitles.Should().Equal("CT01", "PACS1");
        options.Tenants[0].ResendPolicy.Should().Be("keepFirst");
        options.Nodes.Should().ContainSingle().Which.Tls.Should().BeTrue();

        var defaults = Load(null, []);
        (defaults.Dimse.Port, defaults.Dimse.AeTitle, defaults.Http.Port, defaults.Http.Address).Should().Be((11112, "YINGYUN", 8080, "127.0.0.1"));
        defaults.DataDirectory.Should().Be(Path.GetFullPath("yingyun-data"));
    }

    [Theory]
    [InlineData("Yingyun:Dimse:AeTitle", "A\\B", "Yingyun:Dimse:AeTitle (--ae-title)")]
    [InlineData("Yingyun:Dimse:Port", "70000", "Yingyun:Dimse:Port (--dimse-port)")]
    [InlineData("Yingyun:Http:Address", "0.0.0.0", "Yingyun:Http:Address '0.0.0.0': the HTTP API has no authentication yet")]
    [InlineData("Yingyun:Index:Provider", "MySql", "Yingyun:Index:Provider 'MySql'")]
    [InlineData("Yingyun:EventLog:Provider", "Kafka", "Yingyun:EventLog:Provider 'Kafka'")]
    [InlineData("Yingyun:Cache:Redis", "localhost:6379", "Yingyun:Cache:Redis")]
    public void A_setting_serve_cannot_run_with_is_refused_naming_its_key(string key, string value, string message)
    {
        var options = Load(null, new Dictionary<string, string?> { [key] = value });
        var act = () => YingyunConfiguration.Validate(options);
        act.Should().Throw<YingyunConfigurationException>().Which.Message.Should().Contain(message);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_refused_naming_the_key()
    {
        var act = () => Load(null, new Dictionary<string, string?> { ["Yingyun:Dimse:Port"] = "eleven" });
        act.Should().Throw<YingyunConfigurationException>().Which.Message.Should().Contain("Yingyun:Dimse:Port");
    }

    [Fact]
    public async Task Serve_exits_2_with_one_line_naming_the_setting_and_starts_nothing()
    {
        using var folder = new TempFolder();
        string data = Path.Combine(folder.Path, "data");
        var previous = Console.Error;
        using var error = new StringWriter();
        Console.SetError(error);
        int exit, missing;
        try
        {
            exit = await YingyunCli.RunAsync(["serve", "--data", data, "--ae-title", "WAY-TOO-LONG-AE-TITLE", "--http-port", "0", "--dimse-port", "0"]);
            missing = await YingyunCli.RunAsync(["serve", "--data", data, "--config", Path.Combine(folder.Path, "nope.json")]);
        }
        finally
        {
            Console.SetError(previous);
        }
        exit.Should().Be(2);
        missing.Should().Be(2);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().StartWith("yingyun serve: Yingyun:Dimse:AeTitle (--ae-title) 'WAY-TOO-LONG-AE-TITLE' is not an AE title");
        lines[1].Should().StartWith("yingyun serve: --config ").And.EndWith("nope.json: no such file");
        Directory.Exists(data).Should().BeFalse("nothing is created before the settings are right");
    }
}

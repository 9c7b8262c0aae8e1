using O8Actors.Benchmarks.Driver;
using ScottPlot;

namespace O8Actors.Benchmarks.Report;

/// <summary>The README chart: logins (or requests) per second, grouped by concurrency, one colour per implementation.</summary>
internal static class Chart
{
    public static void Write(string path, IReadOnlyList<Row> rows, int[] levels)
    {
        var series = rows.Where(r => r.Kind != "pending").Select(r => r.Name).Distinct().ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (var g = 0; g < levels.Length; g++)
        {
            var groupStart = g * (series.Length + 1);
            for (var s = 0; s < series.Length; s++)
            {
                var row = rows.FirstOrDefault(r => r.Name == series[s] && r.Concurrency == levels[g]);
                if (row is null) continue;
                bars.Add(new Bar { Position = groupStart + s, Value = row.PerSecond, FillColor = palette.GetColor(s) });
            }

            ticks.Add(new Tick(groupStart + (series.Length - 1) / 2.0, $"concurrency {levels[g]}"));
        }

        plot.Add.Bars(bars);
        for (var s = 0; s < series.Length; s++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s], FillColor = palette.GetColor(s) });
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0);
        plot.Title("Complete logins per second (bare Kestrel: callback requests per second)");
        plot.YLabel("per second");
        plot.SavePng(path, 1200, 650);
    }
}

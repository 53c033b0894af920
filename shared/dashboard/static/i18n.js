// Texts of the page in Japanese and English, and the 47 prefectures in JIS order.
// The prefecture list mirrors shared/domain/data/prefectures.csv (a test in tests/src/dashboard.rs checks it);
// the English name is also the area key of the export's JSON and the column name of its CSV.

/** [JIS code, English name (area key), Japanese name], in JIS order. */
export const PREFECTURES = [
  ["01", "Hokkaido", "北海道"],
  ["02", "Aomori", "青森県"],
  ["03", "Iwate", "岩手県"],
  ["04", "Miyagi", "宮城県"],
  ["05", "Akita", "秋田県"],
  ["06", "Yamagata", "山形県"],
  ["07", "Fukushima", "福島県"],
  ["08", "Ibaraki", "茨城県"],
  ["09", "Tochigi", "栃木県"],
  ["10", "Gunma", "群馬県"],
  ["11", "Saitama", "埼玉県"],
  ["12", "Chiba", "千葉県"],
  ["13", "Tokyo", "東京都"],
  ["14", "Kanagawa", "神奈川県"],
  ["15", "Niigata", "新潟県"],
  ["16", "Toyama", "富山県"],
  ["17", "Ishikawa", "石川県"],
  ["18", "Fukui", "福井県"],
  ["19", "Yamanashi", "山梨県"],
  ["20", "Nagano", "長野県"],
  ["21", "Gifu", "岐阜県"],
  ["22", "Shizuoka", "静岡県"],
  ["23", "Aichi", "愛知県"],
  ["24", "Mie", "三重県"],
  ["25", "Shiga", "滋賀県"],
  ["26", "Kyoto", "京都府"],
  ["27", "Osaka", "大阪府"],
  ["28", "Hyogo", "兵庫県"],
  ["29", "Nara", "奈良県"],
  ["30", "Wakayama", "和歌山県"],
  ["31", "Tottori", "鳥取県"],
  ["32", "Shimane", "島根県"],
  ["33", "Okayama", "岡山県"],
  ["34", "Hiroshima", "広島県"],
  ["35", "Yamaguchi", "山口県"],
  ["36", "Tokushima", "徳島県"],
  ["37", "Kagawa", "香川県"],
  ["38", "Ehime", "愛媛県"],
  ["39", "Kochi", "高知県"],
  ["40", "Fukuoka", "福岡県"],
  ["41", "Saga", "佐賀県"],
  ["42", "Nagasaki", "長崎県"],
  ["43", "Kumamoto", "熊本県"],
  ["44", "Oita", "大分県"],
  ["45", "Miyazaki", "宮崎県"],
  ["46", "Kagoshima", "鹿児島県"],
  ["47", "Okinawa", "沖縄県"],
];

export const LANGS = ["ja", "en"];

export const TEXT = {
  ja: {
    title: "新型コロナウイルス感染症 データ",
    subtitle: "HER-SYS の発生届と自治体公表データから集計した公開グラフデータ",
    area: "地域",
    national: "全国",
    per100k: "人口10万人あたりで表示",
    languageSwitch: "English",
    languageSwitchLabel: "Switch to English",
    generatedAt: "データ作成日時",
    lastDate: "最終日",
    source: "データの出典",
    sourceHersys: (from) => `HER-SYS（${from} から）`,
    sourceLinelist: "自治体公表の陽性患者属性データ",
    sourceMixed: "HER-SYS（切替済みの都道府県）と自治体公表データ",
    loading: "データを読み込んでいます…",
    loadError: "データを読み込めませんでした。",
    empty: "データがありません。",
    dataTable: "データ表",
    downloadCsv: "CSV をダウンロード",
    date: "日付",
    period: "期間",
    ageBand: "年代",
    avg7: "7日間移動平均",
    daily: "日別",
    male: "男性",
    female: "女性",
    suppressed: "＊ は少数（1〜4人）のため、または合計から逆算できないよう秘匿した値です。",
    latestPeriod: (from, to) => `${from}〜${to} の週`,
    skipToContent: "本文へ移動",
    chartSummaryDaily: (s) =>
      `${s.title}（${s.area}）。${s.from} から ${s.to} まで。最新値 ${s.last}（${s.to}）` +
      (s.avg == null ? "" : `、7日間移動平均 ${s.avg}`) + `。最大値 ${s.max}（${s.maxDate}）。`,
    chartSummarySexAge: (s) =>
      `${s.title}（${s.area}）、${s.period}、男女別・年代別。最も多いのは ${s.maxLabel} の ${s.max}。`,
    chartSummaryEmpty: (s) => `${s.title}（${s.area}）：データがありません。`,
    captionDaily: (s) =>
      s.cumulative
        ? `${s.title}（${s.area}）の推移。折れ線は累計。`
        : `${s.title}（${s.area}）の推移。棒は日別の値、折れ線は7日間移動平均。`,
    captionSexAge: (s) => `${s.title}（${s.area}）、${s.period}。男女別・年代別の棒グラフ。`,
    footer: "出典：厚生労働省 HER-SYS 拡張のグラフデータ出力。数値は公表日ベース。",
    perUnit: "人口10万人あたり",
    linkageTitle: "入国者と陽性者の突合（旅券番号）",
    linkageHeadline: (total, count, share, when) =>
      (total == null
        ? "入国時検査で陰性だった入国者の人数は少数のため非表示です。"
        : count == null
          ? `入国時検査で陰性だった入国者 ${total} 人のうち、入国後28日以内に陽性と診断された人は少数のため非表示です。`
          : `入国時検査で陰性だった入国者 ${total} 人のうち、入国後28日以内に陽性と診断された人は ${count} 人（${share.share}%、95%信頼区間 ${share.low}〜${share.high}%）。`) +
      (when ? `（${when}集計）` : ""),
    linkageFiles: {
      linkage_entrants_weekly: "週別・入国港別・国籍別の入国者数（CSV）",
      linkage_negative_then_diagnosed_28d: "入国時検査陰性者のうち28日以内に陽性と診断された人（CSV）",
      linkage_days_entry_to_diagnosis: "入国から診断までの日数（CSV）",
      linkage_prefectures: "都道府県別の旅券番号入力と突合の割合（CSV）",
    },
  },
  en: {
    title: "COVID-19 data",
    subtitle: "Public graph data computed from HER-SYS reports and municipalities' published line lists",
    area: "Area",
    national: "Japan (all)",
    per100k: "Show per 100,000 population",
    languageSwitch: "日本語",
    languageSwitchLabel: "日本語に切り替える",
    generatedAt: "Data generated at",
    lastDate: "Last date",
    source: "Source",
    sourceHersys: (from) => `HER-SYS (from ${from})`,
    sourceLinelist: "Municipality-published line list",
    sourceMixed: "HER-SYS (switched prefectures) and municipality-published line lists",
    loading: "Loading data…",
    loadError: "The data could not be loaded.",
    empty: "No data.",
    dataTable: "Data table",
    downloadCsv: "Download CSV",
    date: "Date",
    period: "Period",
    ageBand: "Age",
    avg7: "7-day average",
    daily: "Daily",
    male: "Male",
    female: "Female",
    suppressed: "* marks a small count (1 to 4 persons), or a value hidden so that such a count cannot be derived from totals.",
    latestPeriod: (from, to) => `week ${from} to ${to}`,
    skipToContent: "Skip to content",
    chartSummaryDaily: (s) =>
      `${s.title}, ${s.area}, ${s.from} to ${s.to}. Latest ${s.last} on ${s.to}` +
      (s.avg == null ? "" : ` (7-day average ${s.avg})`) + `. Highest ${s.max} on ${s.maxDate}.`,
    chartSummarySexAge: (s) =>
      `${s.title}, ${s.area}, ${s.period}, by sex and age. Highest: ${s.maxLabel}, ${s.max}.`,
    chartSummaryEmpty: (s) => `${s.title}, ${s.area}: no data.`,
    captionDaily: (s) =>
      s.cumulative
        ? `${s.title}, ${s.area}: the line is the running total.`
        : `${s.title}, ${s.area}: bars are daily values, the line is the 7-day average.`,
    captionSexAge: (s) => `${s.title}, ${s.area}, ${s.period}: bars by sex and age band.`,
    footer: "Source: the HER-SYS extension's graph-data export. Counts are by publication date.",
    perUnit: "per 100,000 population",
    linkageTitle: "Entrants linked with reported cases (passport numbers)",
    linkageHeadline: (total, count, share, when) =>
      (total == null
        ? "The number of entrants who tested negative at the border is too small to show."
        : count == null
          ? `Of ${total} entrants who tested negative at the border, the number diagnosed within 28 days of entry is too small to show.`
          : `Of ${total} entrants who tested negative at the border, ${count} were diagnosed within 28 days of entry (${share.share}%, 95% CI ${share.low}–${share.high}%).`) +
      (when ? ` (Computed ${when}.)` : ""),
    linkageFiles: {
      linkage_entrants_weekly: "Entrants by week, port of entry and nationality (CSV)",
      linkage_negative_then_diagnosed_28d: "Negative-tested entrants diagnosed within 28 days (CSV)",
      linkage_days_entry_to_diagnosis: "Days from entry to diagnosis (CSV)",
      linkage_prefectures: "Passport numbers entered and reports linked, by prefecture (CSV)",
    },
  },
};

// Words and numbers for people, in English and Persian. Period, grain and indicator names come from
// the app (GET /api/reporting-context), which knows the reporting calendar (Solar Hijri month names
// under the Persian calendar); this file holds the page's own words and the number formats.

const words = {
  en: {
    title: 'Executive scorecard',
    skip: 'Skip to the figures', skipToKey: 'Skip to the key form',
    grain: 'Show by', period: 'Period', scope: 'Scope', indicator: 'Indicator',
    viewControls: 'Choose what to show',
    refresh: 'Refresh', changeKey: 'Change key', close: 'Close',
    keyTitle: 'Enter your reader key',
    keyHelp: 'The figures come from this app\'s reader API. The key is kept for this browser session only.',
    keyLabel: 'Reader key', keyOpen: 'Open the scorecard', keyCancel: 'Cancel',
    keyMissing: 'A reader key is needed to see the figures.',
    keyWrong: 'This key was not accepted. Check it and enter it again.',
    keyForbidden: 'This key may not read figures: a reader (or admin) key is needed.',
    unreachable: 'The app did not answer. Check the connection and try again.',
    failed: 'This part could not be loaded: {detail}',
    goalsMissing: 'Goals could not be loaded: the figures are shown without them.',
    tryAgain: 'Try again',
    loading: 'Loading…', opening: 'Loading the scorecard…',
    subtitle: '{deployment} · {calendar} calendar · {currency} · {timeZone}',
    computedAt: 'Computed {time}', noFigures: '(no figures yet)', outOfDate: '(out of date)', otherCalendar: '(computed under another calendar)',
    staleNote: 'facts have arrived since: the next run brings these figures up to date',
    calendarNames: { gregorian: 'Gregorian', persian: 'Solar Hijri', fiscal: 'fiscal' },
    headline: 'Headline figures',
    families: { commercial: 'Commercial', 'customer-experience': 'Customer experience', 'goal-attainment': 'Goals', 'staff-incentives': 'Staff incentives', 'competitor-benchmarks': 'Competitor benchmarks', derived: 'Derived' },
    noData: 'No figures for {period} yet: no run has computed this period.',
    calendarChanged: 'No figures for {period}: those stored under its key were computed under another calendar, in which the key named other days. A run for this period computes it again.',
    noDataScope: 'No figures for {scope} in {period}.',
    versus: 'vs {period}',
    better: 'better', worse: 'worse', same: 'unchanged', noPrevious: 'no earlier figure', noCurrent: 'no figure for this period', upFromZero: 'up from 0', downFromZero: 'down from 0',
    linkIgnored: 'This scorecard has no {parts}, named in the link: it shows {period} instead.',
    points: '{value} pts',
    goal: 'Goal', goals: 'Goal attainment', actual: 'Actual', target: 'Target', stretch: 'Stretch', attainment: 'Attainment',
    projection: 'Projection', status: 'Status', child: 'part of {parent}',
    composite: 'Composite score of its weighted parts', weight: 'weight {weight}',
    noGoals: 'No goals for {period}.', noGoalsScope: 'No goals for {scope} in {period}; choose the organisation to see every goal.',
    statuses: { achieved: 'Achieved', missed: 'Missed', 'on-track': 'On track', 'at-risk': 'At risk', 'off-track': 'Off track', 'no-data': 'No data', 'no-attainment': 'Target 0: no %' },
    trend: 'Trend', trendOf: '{indicator}, {scope}: the last {count} periods', trendOfOne: '{indicator}, {scope}: this period only', goalTarget: 'Goal target', showNumbers: 'Show the numbers',
    noTrend: 'No figures for {indicator} in {scope} over these periods.',
    // Table names differ from their panel's heading: both are landmarks, and a screen reader lists them by name.
    goalsTable: 'Goals for {scope}, {period}', staffTable: 'Payouts by staff member, {period}', benchmarksTable: 'Us and each competitor, {period}',
    staff: 'Staff incentives', rank: 'Rank', person: 'Staff member', quotaAttainment: 'Quota attainment', payout: 'Payout', statement: 'Statement',
    openStatement: 'Statement of {staff}', noStaff: 'No incentive plan covers {period}.',
    statementTitle: 'Payout statement: {staff}, {period}',
    plan: 'Plan', measure: 'Measure', quota: 'Quota', tiers: 'Tiers', band: 'Band', base: 'In band', rate: 'Rate', amount: 'Amount',
    gross: 'Gross', gates: 'Gates', minimum: 'Minimum', value: 'Value', passed: 'passed', failedGate: 'failed', factor: 'Factor',
    afterGates: 'After gates', cap: 'Cap', none: 'none', rankOf: '{rank} of {count}',
    benchmarks: 'Competitor benchmarks', marketShare: 'Market share', relativeShare: 'Relative market share', us: 'Us', peerMean: 'Peer mean',
    index: 'Index', percentile: 'Percentile', winRateVs: 'Deals won against each competitor', noBenchmarks: 'No competitor observations for {period}.',
    alerts: 'Alerts', noAlerts: 'No alerts have been raised.', openFigure: 'Open the figure', openFigureOf: 'Open the figure: {indicator}, {scope}, {period}', thisView: 'this view',
    alertsCount: '{count} alerts', alertCount: '1 alert', alertsShown: 'Showing {shown} of {count} alerts',
    showAllAlerts: 'Show all {count}', showFewerAlerts: 'Show fewer',
    openState: 'Open', resolvedState: 'Resolved',
    severities: { critical: 'Critical', warning: 'Warning', info: 'Info' },
    export: 'Take the figures elsewhere', downloadCsv: 'Download CSV of this view',
    odataHelp: 'Power BI or Excel: Get data → OData feed, this URL, Anonymous authentication, with your reader key added as &code=…',
    copyOdata: 'Copy with my key', copied: 'Copied.',
    scopeKinds: { org: 'Organisation', channel: 'Channels', segment: 'Segments', region: 'Regions', staff: 'Staff' },
    scopeName: { org: 'the organisation', channel: '{value} channel', segment: '{value} segment', region: 'region {value}', staff: 'staff member {value}', competitor: '{value}', goal: 'goal {value}' },
    channels: {},
    units: { hours: 'h', seconds: 's', 'per 1,000': 'per 1,000', ratio: '×' },
    benchName: { gap: 'Gap to competitors in {x}', index: 'Index against competitors for {x}', percentile: 'Rank among competitors for {x}' },
  },
  fa: {
    title: 'داشبورد مدیریتی',
    skip: 'رفتن به ارقام', skipToKey: 'رفتن به فرم کلید',
    grain: 'نمایش بر اساس', period: 'دوره', scope: 'حوزه', indicator: 'شاخص',
    viewControls: 'انتخاب آنچه نمایش داده می‌شود',
    refresh: 'بازخوانی', changeKey: 'تغییر کلید', close: 'بستن',
    keyTitle: 'کلید خواندن را وارد کنید',
    keyHelp: 'ارقام از رابط خواندن همین برنامه می‌آیند. کلید فقط تا پایان همین نشست مرورگر نگه داشته می‌شود.',
    keyLabel: 'کلید خواندن', keyOpen: 'باز کردن داشبورد', keyCancel: 'انصراف',
    keyMissing: 'برای دیدن ارقام، کلید خواندن لازم است.',
    keyWrong: 'این کلید پذیرفته نشد. آن را بررسی کنید و دوباره وارد کنید.',
    keyForbidden: 'این کلید اجازهٔ خواندن ارقام را ندارد: کلید خواندن (یا مدیر) لازم است.',
    unreachable: 'برنامه پاسخ نداد. اتصال را بررسی کنید و دوباره تلاش کنید.',
    failed: 'این بخش بارگذاری نشد: {detail}',
    goalsMissing: 'اهداف بارگذاری نشدند: ارقام بدون آن‌ها نشان داده شده‌اند.',
    tryAgain: 'تلاش دوباره',
    loading: 'در حال بارگذاری…', opening: 'در حال بارگذاری داشبورد…',
    subtitle: '{deployment} · تقویم {calendar} · {currency} · {timeZone}',
    computedAt: 'محاسبه در {time}', noFigures: '(بدون رقم)', outOfDate: '(نیازمند به‌روزرسانی)', otherCalendar: '(محاسبه با تقویمی دیگر)',
    staleNote: 'از آن پس داده‌های تازه رسیده است؛ اجرای بعدی این ارقام را به‌روز می‌کند',
    calendarNames: { gregorian: 'میلادی', persian: 'هجری شمسی', fiscal: 'مالی' },
    headline: 'ارقام کلیدی',
    families: { commercial: 'تجاری', 'customer-experience': 'تجربهٔ مشتری', 'goal-attainment': 'اهداف', 'staff-incentives': 'پاداش کارکنان', 'competitor-benchmarks': 'مقایسه با رقبا', derived: 'شاخص‌های ترکیبی' },
    noData: 'هنوز رقمی برای {period} محاسبه نشده است.',
    calendarChanged: 'رقمی برای {period} نشان داده نمی‌شود: ارقامی که با این کلید ذخیره شده‌اند با تقویم دیگری محاسبه شده‌اند که در آن این کلید روزهای دیگری را می‌نامید. اجرای این دوره آن را دوباره محاسبه می‌کند.',
    noDataScope: 'برای {scope} در {period} رقمی نیست.',
    versus: 'نسبت به {period}',
    better: 'بهتر', worse: 'بدتر', same: 'بدون تغییر', noPrevious: 'رقم قبلی نیست', noCurrent: 'رقمی برای این دوره نیست', upFromZero: 'افزایش از صفر', downFromZero: 'کاهش از صفر',
    linkIgnored: 'این داشبورد {parts} را که در پیوند آمده ندارد؛ به جای آن {period} را نشان می‌دهد.',
    points: '{value} واحد',
    goal: 'هدف', goals: 'تحقق اهداف', actual: 'واقعی', target: 'مقدار هدف', stretch: 'هدف بلندپروازانه', attainment: 'تحقق',
    projection: 'پیش‌بینی', status: 'وضعیت', child: 'زیرمجموعهٔ {parent}',
    composite: 'امتیاز ترکیبی از اجزای وزن‌دار', weight: 'وزن {weight}',
    noGoals: 'برای {period} هدفی تعریف نشده است.', noGoalsScope: 'برای {scope} در {period} هدفی نیست؛ برای دیدن همهٔ اهداف «کل سازمان» را انتخاب کنید.',
    statuses: { achieved: 'محقق شد', missed: 'محقق نشد', 'on-track': 'در مسیر', 'at-risk': 'در خطر', 'off-track': 'خارج از مسیر', 'no-data': 'بدون داده', 'no-attainment': 'هدف صفر: بدون درصد' },
    trend: 'روند', trendOf: '{indicator}، {scope}: {count} دورهٔ اخیر', trendOfOne: '{indicator}، {scope}: فقط همین دوره', goalTarget: 'مقدار هدف', showNumbers: 'نمایش اعداد',
    noTrend: 'برای {indicator} در {scope} در این دوره‌ها رقمی نیست.',
    goalsTable: 'اهداف {scope}، {period}', staffTable: 'پاداش هر کارمند، {period}', benchmarksTable: 'ما و هر رقیب، {period}',
    staff: 'پاداش کارکنان', rank: 'رتبه', person: 'کارمند', quotaAttainment: 'تحقق سهمیه', payout: 'پاداش', statement: 'ریز محاسبه',
    openStatement: 'ریز محاسبهٔ {staff}', noStaff: 'هیچ طرح پاداشی {period} را در بر نمی‌گیرد.',
    statementTitle: 'ریز محاسبهٔ پاداش: {staff}، {period}',
    plan: 'طرح', measure: 'معیار', quota: 'سهمیه', tiers: 'پله‌ها', band: 'بازه', base: 'مبلغ در بازه', rate: 'نرخ', amount: 'مبلغ',
    gross: 'ناخالص', gates: 'شرط‌ها', minimum: 'حداقل', value: 'مقدار', passed: 'برقرار', failedGate: 'برقرار نیست', factor: 'ضریب',
    afterGates: 'پس از شرط‌ها', cap: 'سقف', none: 'ندارد', rankOf: '{rank} از {count}',
    benchmarks: 'مقایسه با رقبا', marketShare: 'سهم بازار', relativeShare: 'سهم نسبی بازار', us: 'ما', peerMean: 'میانگین رقبا',
    index: 'شاخص', percentile: 'صدک', winRateVs: 'نرخ برد معاملات در برابر هر رقیب', noBenchmarks: 'برای {period} داده‌ای از رقبا نیست.',
    alerts: 'هشدارها', noAlerts: 'هشداری صادر نشده است.', openFigure: 'مشاهدهٔ رقم', openFigureOf: 'مشاهدهٔ رقم: {indicator}، {scope}، {period}', thisView: 'همین نما',
    alertsCount: '{count} هشدار', alertCount: '۱ هشدار', alertsShown: '{shown} از {count} هشدار',
    showAllAlerts: 'نمایش همهٔ {count} هشدار', showFewerAlerts: 'نمایش کمتر',
    openState: 'باز', resolvedState: 'برطرف‌شده',
    severities: { critical: 'بحرانی', warning: 'هشدار', info: 'اطلاع' },
    export: 'بردن ارقام به ابزارهای دیگر', downloadCsv: 'دریافت CSV همین نما',
    odataHelp: 'Power BI یا Excel: Get data ← OData feed، همین نشانی، احراز هویت Anonymous، با افزودن کلید خواندن به صورت &code=…',
    copyOdata: 'کپی با کلید من', copied: 'کپی شد.',
    scopeKinds: { org: 'کل سازمان', channel: 'کانال‌ها', segment: 'بخش‌های بازار', region: 'مناطق', staff: 'کارکنان' },
    scopeName: { org: 'کل سازمان', channel: 'کانال {value}', segment: 'بخش {value}', region: 'منطقهٔ {value}', staff: 'کارمند {value}', competitor: '{value}', goal: 'هدف {value}' },
    channels: { phone: 'تلفن', email: 'ایمیل', web: 'وب', chat: 'گفتگوی برخط', social: 'شبکه‌های اجتماعی', mobile: 'موبایل', mail: 'پست', fax: 'فکس', 'in-person': 'حضوری', other: 'سایر' },
    units: { hours: 'ساعت', seconds: 'ثانیه', 'per 1,000': 'در هزار', ratio: '×' },
    benchName: { gap: 'فاصله با رقبا در {x}', index: 'شاخص مقایسه با رقبا در {x}', percentile: 'رتبه در میان رقبا در {x}' },
  },
};

export const languages = ['en', 'fa'];

/** The contract's channels (those the Persian page names): any other is not a scope the API knows. */
export const channels = Object.keys(words.fa.channels);

export class Words {
  constructor(lang, context) {
    this.lang = languages.includes(lang) ? lang : 'en';
    this.context = context;
    this.words = words[this.lang];
    this.locale = this.lang === 'fa' ? 'fa-IR' : 'en-US';
    this.calendar = context?.calendarKind === 'persian' ? 'persian' : 'gregory';
  }

  get rtl() { return this.lang === 'fa'; }

  /** A word of the page, with {placeholders} filled in. */
  t(key, values = {}) {
    const text = key.split('.').reduce((node, part) => node?.[part], this.words) ?? key;
    return String(text).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
  }

  /** A number for people: the locale's digits and separators (Persian digits in Persian). */
  number(value, digits = 1, minimum = 0) {
    return new Intl.NumberFormat(this.locale, { maximumFractionDigits: digits, minimumFractionDigits: minimum }).format(value);
  }

  /** An amount of money to the cent (the currency's minor unit), however large: a payout, or an amount on its statement. */
  money(value) {
    if (value === null || value === undefined || Number.isNaN(value)) return '—';
    return new Intl.NumberFormat(this.locale, { style: 'currency', currency: this.context?.currency ?? 'EUR' }).format(value);
  }

  /** The trend's caption: which indicator and scope, over how many periods. */
  trendCaption(indicator, scope, count) {
    return this.t(count === 1 ? 'trendOfOne' : 'trendOf', { indicator, scope, count: this.number(count, 0) });
  }

  /** How many decimals a value of a unit shows. */
  static digits(value, unit) {
    if (unit === 'count') return 0;
    if (unit === 'currency') return Math.abs(value) >= 1000 ? 0 : 2;
    if (unit === 'ratio') return 2;
    return Math.abs(value) >= 100 ? 0 : 1;
  }

  /** A value with its unit (with <code>digits</code> decimals, else as many as its unit shows); null is a dash. */
  value(value, unit, digits = undefined) {
    if (value === null || value === undefined || Number.isNaN(value)) return '—';
    digits ??= Words.digits(value, unit);
    if (unit === 'currency') {
      return new Intl.NumberFormat(this.locale, { style: 'currency', currency: this.context?.currency ?? 'EUR', maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
    }
    const text = this.number(value, digits);
    if (unit === '%') return this.rtl ? `${text}٪` : `${text}%`;
    const suffix = this.words.units[unit];
    return suffix ? `${text} ${suffix}` : text;
  }

  /**
   * A value beside the figures it is judged against (a goal's target, 100 %, a threshold): rounded for
   * people, but never onto one of them. An actual of 5.1145 against a target of 5.12 reads "5.11", not
   * "5.1" beside "5.1"; an attainment of 99.96 % reads "99.96%", not "100%" beside "Missed".
   */
  valueAgainst(value, unit, ...bounds) {
    if (value === null || value === undefined || Number.isNaN(value)) return '—';
    const usual = Words.digits(value, unit);
    let digits = usual;
    const same = (a, b, d) => Math.round(a * 10 ** d) === Math.round(b * 10 ** d);
    for (const bound of bounds) {
      if (bound === null || bound === undefined || Number.isNaN(bound) || bound === value) continue;
      let more = usual;
      while (more < 6 && same(value, bound, more)) more++;
      // Still the same at six decimals: a difference of floating-point error alone, not one to show.
      if (!same(value, bound, more)) digits = Math.max(digits, more);
    }
    return this.value(value, unit, digits);
  }

  /**
   * A signed change: points for percentages and scores, else percent of the earlier value. Shown with one
   * decimal, or as many more (up to three) as it takes not to read 0; one that is 0 even then is no change
   * (its delta 0, so it is judged neither better nor worse): never "−0 pts worse".
   */
  change(current, previous, unit) {
    if (current === null || previous === null || current === undefined || previous === undefined) return null;
    const absolute = unit === '%' || unit === 'score' || unit === 'index';
    let delta = current - previous;
    // From 0 a percent change has no size: the direction is said in words (and 0 to 0 is unchanged).
    if (!absolute && previous === 0) {
      return delta === 0 ? { delta, text: `±${this.number(0, 0)}${this.rtl ? '٪' : '%'}` } : { delta, text: this.t(delta > 0 ? 'upFromZero' : 'downFromZero') };
    }
    let amount = absolute ? delta : 100 * delta / Math.abs(previous);
    let digits = 1;
    while (digits < 3 && Math.round(Math.abs(amount) * 10 ** digits) === 0) digits++;
    if (Math.round(Math.abs(amount) * 10 ** digits) === 0) amount = delta = 0;
    const sign = amount > 0 ? '+' : amount < 0 ? '−' : '±';
    const magnitude = this.number(Math.abs(amount), digits);
    return { delta, text: absolute ? this.t('points', { value: sign + magnitude }) : `${sign}${magnitude}${this.rtl ? '٪' : '%'}` };
  }

  /** A date and time in the reporting calendar and time zone. */
  instant(text) {
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) return text;
    return new Intl.DateTimeFormat(this.locale, { calendar: this.calendar, dateStyle: 'medium', timeStyle: 'short', timeZone: this.context?.timeZone ?? 'UTC' }).format(date);
  }

  indicatorName(id) {
    const entry = this.context?.indicators.find(i => i.id === id);
    if (entry) return entry.name[this.lang];
    const pattern = /^bench\.(gap|index|percentile)\.(.+)$/.exec(id);
    if (pattern) return this.t(`benchName.${pattern[1]}`, { x: this.indicatorName(pattern[2]) });
    if (id === 'market-share') return this.t('marketShare');
    return id;
  }

  /** A scope as a choice in a list: its value under its kind's heading (the organisation by name). */
  scopeLabel(scope) {
    const [kind, ...rest] = scope.split(':');
    const value = rest.join(':');
    if (kind === 'org') return this.words.scopeKinds.org;
    return kind === 'channel' ? (this.words.channels[value] ?? value) : value;
  }

  scopeName(scope) {
    const [kind, ...rest] = scope.split(':');
    const value = rest.join(':');
    const shown = kind === 'channel' ? (this.words.channels[value] ?? value) : value;
    const template = this.words.scopeName[kind];
    return template ? template.replace('{value}', shown) : scope;
  }

  periodName(grain, key) {
    const entry = this.context?.grains.find(g => g.grain === grain)?.periods.find(p => p.key === key);
    return entry ? entry.label[this.lang] : key;
  }

  grainName(grain) {
    return this.context?.grains.find(g => g.grain === grain)?.name[this.lang] ?? grain;
  }
}

metadata description = 'Types and functions shared by main.bicep and the app modules.'

@export()
@description('A calendar CrmMetrics can report in: the Gregorian or Persian calendar, or a fiscal year that starts in the given month (1 = January).')
type calendarName =
  | 'gregorian'
  | 'persian'
  | 'fiscal:1'
  | 'fiscal:2'
  | 'fiscal:3'
  | 'fiscal:4'
  | 'fiscal:5'
  | 'fiscal:6'
  | 'fiscal:7'
  | 'fiscal:8'
  | 'fiscal:9'
  | 'fiscal:10'
  | 'fiscal:11'
  | 'fiscal:12'

@export()
@description('A period grain the scheduled runs can finalise.')
type grainName = 'day' | 'week' | 'month' | 'quarter' | 'year'

@export()
@description('Exchange rates: ISO 4217 code of a currency other than the reporting one, to units of reporting currency per unit of it, as text with a decimal point (e.g. { USD: \'0.92\' }; Bicep has no fractional numbers).')
type exchangeRateSet = {
  *: string
}

@export()
@description('Turns exchange rates into app settings: CrmMetrics__ExchangeRates__<CUR> = "<rate>".')
func exchangeRateSettings(rates exchangeRateSet) object =>
  toObject(items(rates), rate => 'CrmMetrics__ExchangeRates__${rate.key}', rate => rate.value)

@export()
@description('One API key. Only its SHA-256 hash is deployed; the key itself never leaves the person who made it.')
type apiKey = {
  @description('Key name; becomes the app setting CrmMetrics__Keys__<name>, so use letters, digits and "_" only (Linux app setting names allow nothing else but "."), and no "__", which would nest the setting (checked at deployment). Names are compared ignoring case.')
  @minLength(1)
  @maxLength(64)
  name: string

  @description('What the key may do.')
  role: 'reader' | 'writer' | 'admin'

  @description('Hex SHA-256 of the key (64 hexadecimal digits, checked at deployment), e.g. from: printf %s "$KEY" | sha256sum. Each key its own hash.')
  @minLength(64)
  @maxLength(64)
  sha256: string
}

@export()
@secure()
@description('The API keys to install. A wrapper object because ARM can only mark strings and objects secure, not arrays.')
type apiKeySet = {
  keys: apiKey[]
}

@export()
@description('Turns API key entries into app settings: CrmMetrics__Keys__<name> = "<role>:<sha256 in lower-case hex>".')
func apiKeySettings(keys apiKey[]) object =>
  toObject(keys, key => 'CrmMetrics__Keys__${key.name}', key => '${key.role}:${toLower(key.sha256)}')

// Checks of what the app refuses at start (CrmMetricsSettings.Load). Bicep has no regular expressions,
// so each is spelt out; api.bicep fails the deployment, naming the parameter, when one does not hold,
// rather than deploy settings that stop the worker and take /api/health down with it.

@export()
@description('Whether every character of value is one of allowed (case-sensitive).')
func onlyCharactersOf(value string, allowed string) bool =>
  empty(filter(range(0, length(value)), i => !contains(allowed, substring(value, i, 1))))

@export()
@description('The app\'s rule for CrmMetrics__DeploymentName (Vocabulary.IsKey): 1-128 characters of A-Z a-z 0-9 . _ : -')
func isDeploymentName(value string) bool =>
  !empty(value) && length(value) <= 128 && onlyCharactersOf(
    value,
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-'
  )

@export()
@description('An API key name usable in the app setting CrmMetrics__Keys__<name>: letters, digits and "_" (what Linux app setting names allow, besides "."), without "__", which would nest the setting and make the app refuse it.')
func isKeyName(value string) bool =>
  !empty(value) && !contains(value, '__') && onlyCharactersOf(
    value,
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_'
  )

@export()
@description('What the app would refuse in these API keys (ApiKey.LoadAll): a name unusable in CrmMetrics__Keys__<name>, a hash that is not 64 hex digits, two names alike but for case, one hash under two names. Empty when none.')
func apiKeyProblems(keys apiKey[]) string[] =>
  flatten([
    map(
      filter(keys, key => !isKeyName(key.name)),
      key =>
        'apiKeys: the key name \'${key.name}\' must be letters, digits and "_" without "__" (it becomes the app setting CrmMetrics__Keys__<name>).'
    )
    map(
      filter(keys, key => !isSha256Hex(key.sha256)),
      key => 'apiKeys: the sha256 of key \'${key.name}\' must be 64 hexadecimal digits (printf %s "$KEY" | sha256sum).'
    )
    length(union(map(keys, key => toLower(key.name)), [])) == length(keys) ? [] : ['apiKeys: two keys have the same name (setting names do not tell case apart).']
    length(union(map(keys, key => toLower(key.sha256)), [])) == length(keys) ? [] : ['apiKeys: two keys have the same sha256; give each name a key of its own (one role per key).']
  ])

@export()
@description('A SHA-256 in hex: 64 hexadecimal digits, either case.')
func isSha256Hex(value string) bool => length(value) == 64 && onlyCharactersOf(value, '0123456789abcdefABCDEF')

@export()
@description('An ISO 4217 code as the app reads one: three capital letters A-Z.')
func isCurrencyCode(value string) bool => length(value) == 3 && onlyCharactersOf(value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')

@export()
@description('An exchange rate the app takes: digits with at most one decimal point (no comma, sign or exponent), above 0 and at most 10^12.')
func isExchangeRate(value string) bool =>
  onlyCharactersOf(value, '0123456789.') && length(split(value, '.')) <= 2 && !empty(replace(
    replace(value, '.', ''),
    '0',
    ''
  )) && (length(stripLeadingZeros(first(split(value, '.')))) <= 12 || stripLeadingZeros(first(split(value, '.'))) == '1000000000000' && (length(split(
    value,
    '.'
  )) == 1 || empty(replace(last(split(value, '.')), '0', ''))))

@description('Digits without their leading zeros.')
func stripLeadingZeros(digits string) string =>
  empty(filter(range(0, length(digits)), i => substring(digits, i, 1) != '0'))
    ? ''
    : substring(digits, filter(range(0, length(digits)), i => substring(digits, i, 1) != '0')[0])

@export()
@description('An absolute http(s) URL without query or fragment, as CrmMetrics__PublicBaseUrl must be (empty: unset).')
func isPublicBaseUrl(value string) bool =>
  empty(value) || ((startsWith(value, 'https://') || startsWith(value, 'http://')) && !contains(value, '?') && !contains(
    value,
    '#'
  ) && !contains(value, ' ') && !empty(first(split(substring(value, indexOf(value, '//') + 2), '/'))))

@description('Whether a field token is a number from lo to hi, or one of names (month or day names, any case).')
func isCronValue(token string, lo int, hi int, names string[]) bool =>
  contains(names, toUpper(token)) || (!empty(token) && length(token) <= 4 && onlyCharactersOf(token, '0123456789')
    ? int(token) >= lo && int(token) <= hi
    : false)

@description('One comma-separated part of a field: *, a value or a range of two, optionally /step (step 1 or more).')
func isCronPart(part string, lo int, hi int, names string[]) bool =>
  length(split(part, '/')) <= 2 && (length(split(part, '/')) == 1 || isCronValue(last(split(part, '/')), 1, 9999, [])) && (first(split(
    part,
    '/'
  )) == '*' || (length(split(first(split(part, '/')), '-')) <= 2 && empty(filter(
    split(first(split(part, '/')), '-'),
    token => !isCronValue(token, lo, hi, names)
  ))))

@description('Whether a whole field (a comma-separated list of parts) reads.')
func isCronField(field string, lo int, hi int, names string[]) bool =>
  empty(filter(split(field, ','), part => !isCronPart(part, lo, hi, names)))

@description('The six NCRONTAB fields in order, with the values each takes.')
func cronFields() object[] => [
  { name: 'second', lo: 0, hi: 59, names: [], takes: '0-59' }
  { name: 'minute', lo: 0, hi: 59, names: [], takes: '0-59' }
  { name: 'hour', lo: 0, hi: 23, names: [], takes: '0-23' }
  { name: 'day', lo: 1, hi: 31, names: [], takes: '1-31' }
  {
    name: 'month'
    lo: 1
    hi: 12
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
    takes: '1-12 or JAN-DEC'
  }
  {
    name: 'day-of-week'
    lo: 0
    hi: 6
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']
    takes: '0-6 (0 is Sunday) or SUN-SAT'
  }
]

@description('The fields of a schedule: its texts between spaces.')
func cronFieldsOf(value string) string[] => filter(split(value, ' '), field => !empty(field))

@export()
@description('What is wrong with a timer schedule as Flex Consumption reads it (six-field NCRONTAB: second minute hour day month day-of-week; no time spans, no L, W, # or ?, days of the week 0-6); empty when it reads. A date no month has (31 February) is not caught here.')
func scheduleProblem(value string) string =>
  length(cronFieldsOf(value)) != 6
    ? '\'${value}\' must have 6 fields separated by spaces: second minute hour day month day-of-week (for example 0 */15 * * * *)'
    : join(
        map(
          filter(
            range(0, 6),
            i => !isCronField(cronFieldsOf(value)[i], cronFields()[i].lo, cronFields()[i].hi, cronFields()[i].names)
          ),
          i =>
            '\'${value}\': its ${cronFields()[i].name} field \'${cronFieldsOf(value)[i]}\' must be *, values ${cronFields()[i].takes}, lists (,), ranges (-) and steps (/n); NCRONTAB has no L, W, # or ?'
        ),
        '; '
      )

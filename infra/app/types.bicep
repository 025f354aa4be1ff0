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
  @description('Key name; becomes the app setting CrmMetrics__Keys__<name>, so use letters, digits and "_" only (Linux app setting names allow nothing else but ".").')
  @minLength(1)
  @maxLength(64)
  name: string

  @description('What the key may do.')
  role: 'reader' | 'writer' | 'admin'

  @description('Lower-case hex SHA-256 of the key (64 characters), e.g. from: printf %s "$KEY" | sha256sum')
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

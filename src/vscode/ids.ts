/** Every command id, view id and context key Keysentry contributes, typed in one place. */
export const Commands = {
  scanWorkspace: 'keysentry.scanWorkspace',
  showLog: 'keysentry.showLog',
  ignoreLine: 'keysentry.ignoreLine',
  addToBaseline: 'keysentry.addToBaseline',
  openRunbook: 'keysentry.openRunbook',
  revealFinding: 'keysentry.revealFinding',
  revealPushFinding: 'keysentry.revealPushFinding',
  safePush: 'keysentry.safePush',
  installHook: 'keysentry.installHook',
  uninstallHook: 'keysentry.uninstallHook',
  rotateKey: 'keysentry.rotateKey',
  checkKey: 'keysentry.checkKey',
  verifyKeyItself: 'keysentry.verifyKeyItself',
  auditAccount: 'keysentry.auditAccount',
  importNotice: 'keysentry.importNotice',
  newIncident: 'keysentry.newIncident',
  openIncident: 'keysentry.openIncident',
  openKeyIncident: 'keysentry.openKeyIncident',
  exportIncidents: 'keysentry.exportIncidents',
  importIncidents: 'keysentry.importIncidents',
  exportReport: 'keysentry.exportReport',
  setIncidentStatus: 'keysentry.setIncidentStatus',
  deleteIncident: 'keysentry.deleteIncident',
} as const;

export const Views = {
  container: 'keysentry',
  incidents: 'keysentry.incidents',
} as const;

export const ContextKeys = {
  findingCount: 'keysentry.findingCount',
  scanning: 'keysentry.scanning',
} as const;

export const DIAGNOSTIC_SOURCE = 'Keysentry';

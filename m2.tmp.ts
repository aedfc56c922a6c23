import { readMappingCsv } from './importer/mapping/csvMapping';
(async () => {
  const rows = ['External User ID,Microsoft 365 User Mailbox']; for (let i=0;i<100000;i++) rows.push(`4477009${String(i).padStart(5,'0')},user${i}@contoso.example`);
  const text = rows.join('\r\n');
  for (let k=0;k<3;k++){ const t = Date.now(); const r = await readMappingCsv(text); console.log('100k', Date.now()-t, r.entries.length, r.problems.length);}
})();

import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { Readable } from 'node:stream';
const rows = ['External User ID,Microsoft 365 User Mailbox']; for (let i=0;i<100000;i++) rows.push(`4477009${String(i).padStart(5,'0')},user${i}@contoso.example`);
const text = rows.join('\r\n');
async function run(name: string, opts: any) { const t=Date.now(); let n=0; const p = parse(opts); Readable.from([text]).pipe(p); for await (const r of p) n++; console.log(name, Date.now()-t, n); }
(async()=>{
  for (let k=0;k<2;k++){
  await run('full', { delimiter: ',', bom: true, trim: true, skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true, info: true });
  await run('noinfo', { delimiter: ',', bom: true, trim: true, skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true });
  await run('notrim', { delimiter: ',', bom: true, skip_empty_lines: true, relax_column_count: true, info: true });
  await run('bare', { delimiter: ',' });
  let t=Date.now(); parseSync(text, {delimiter:','}); console.log('sync', Date.now()-t);
  t=Date.now(); const c=Buffer.from(text); const chunks=[]; for(let i=0;i<c.length;i+=65536) chunks.push(c.subarray(i,i+65536)); let n=0; const p = parse({ delimiter: ',', bom: true, trim: true, skip_empty_lines: true, info: true, relax_column_count: true }); Readable.from(chunks).pipe(p); for await (const r of p) n++; console.log('chunked', Date.now()-t, n);
  }
})();

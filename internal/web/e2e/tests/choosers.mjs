// choosers listens for a page's file choosers from now on and returns a
// function that waits, at most 30 s, for the next one. The browser reports
// a chooser only once asked to watch for one; asking as the key is pressed
// (Promise.all with waitForEvent) sometimes came after the chooser had
// opened, and a test waited for nothing. why, if given, adds to the error
// what the page looked like (where the focus was).
export function choosers(page) {
  const opened = [];
  const waiting = [];
  page.on('filechooser', (c) => (waiting.length > 0 ? waiting.shift()(c) : opened.push(c)));
  return (why = async () => '') => {
    if (opened.length > 0) return Promise.resolve(opened.shift());
    return new Promise((ok, fail) => {
      const t = setTimeout(async () => fail(new Error(`no file chooser opened within 30 s${await why()}`)), 30000);
      waiting.push((c) => { clearTimeout(t); ok(c); });
    });
  };
}

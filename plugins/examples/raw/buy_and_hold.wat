;; Buy and hold, written directly against the raw plugin ABI (version 1, see plugins/README.md).
;;
;; On the first bar it puts all equity into the run's first symbol and logs a line; after that it
;; does nothing. No SDK, no allocator, no parameters: a plugin only needs a memory, the
;; `bt_abi_version` export and a `bt_on_bar` export; everything else is optional.
;;
;;   backtester run plugins/examples/raw/buy_and_hold.wat --data data/GOOG.csv
(module
  ;; Host functions come from import module "bt" (nothing else may be imported).
  ;;   bar_index() -> i64                        the index of the current step, 0 on the first
  ;;   order_target_percent(sym, fraction) -> i64  a market order towards `fraction` of equity;
  ;;                                               returns the order id
  ;;   log(ptr, len)                             adds a line (UTF-8 in our memory) to the run's log
  (import "bt" "bar_index" (func $bar_index (result i64)))
  (import "bt" "order_target_percent" (func $order_target_percent (param i32 f64) (result i64)))
  (import "bt" "log" (func $log (param i32 i32)))

  ;; One 64 KiB page is plenty: the only data is the message below. The host reads strings from
  ;; this exported memory.
  (memory (export "memory") 1)

  ;; The log message at offset 16: 32 bytes of UTF-8 (strings are (ptr, len), no terminator).
  (data (i32.const 16) "buy and hold: all in on symbol 0")

  ;; Checked before anything else is called: this plugin speaks ABI version 1.
  (func (export "bt_abi_version") (result i32)
    i32.const 1)

  ;; Called once per timestamp; returning 0 means "ok", anything else fails the run.
  (func (export "bt_on_bar") (result i32)
    ;; Only act on the very first bar.
    (if (i64.eqz (call $bar_index))
      (then
        ;; Target 100% of equity in symbol 0 (the run's first symbol). The order id is not
        ;; needed, so drop it.
        (drop (call $order_target_percent (i32.const 0) (f64.const 1.0)))
        ;; log(ptr = 16, len = 32): the message from the data segment above.
        (call $log (i32.const 16) (i32.const 32))))
    i32.const 0)
)
